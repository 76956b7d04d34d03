// The machine a benchmark ran on: cores, CPU model, memory, kernel, Node and QEMU versions.
import { cpus, release, totalmem } from 'node:os';
import { execa } from 'execa';
import { resolveQemuBinary } from '../vm/machine.js';
import type { BenchReport } from './report.js';

/** Reads the host's facts; the QEMU version is `unknown` when QEMU cannot be run. */
export async function readMachineInfo(): Promise<BenchReport['machine']> {
  let qemu = 'QEMU unknown';
  try {
    const { stdout } = await execa(resolveQemuBinary(), ['--version']);
    qemu =
      stdout
        .split('\n')[0]
        ?.replace(/ \(.*\)$/, '')
        .trim() ?? qemu;
  } catch {
    // Reported as unknown: the benchmarks themselves will say why QEMU cannot run.
  }
  const cores = cpus();
  return {
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    memTotalBytes: totalmem(),
    kernel: release(),
    node: process.versions.node,
    qemu,
  };
}
