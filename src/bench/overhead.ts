// The monitor's own cost: its RSS and CPU with no pair and with a protected pair (heartbeats flowing),
// the idle guests' QEMU CPU, and the QMP round trip (query-status).

import { readProcessCpuTicks } from '../detect/process-cpu.js';
import { BenchError } from '../errors.js';
import type { Pair } from '../pair/pair.js';
import { queryStatus } from '../qmp/commands.js';
import { sleepMs } from './bench-pair.js';
import { quantile, roundTenth, type Spread, summarize } from './stats.js';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcessLoad {
  rssBytes: number;
  cpuPercent: number;
}

/** This process's RSS at the end of a `windowMs` window and its CPU use over it (% of one core). */
export async function measureProcessLoad(windowMs: number): Promise<ProcessLoad> {
  const before = process.cpuUsage();
  const startedAtMs = performance.now();
  await sleepMs(windowMs);
  const used = process.cpuUsage(before);
  const elapsedMs = performance.now() - startedAtMs;
  return {
    rssBytes: process.memoryUsage().rss,
    cpuPercent: roundTenth(((used.user + used.system) / 1000 / elapsedMs) * 100),
  };
}

/** The process's load over `windowMs` while `pair` runs, and each QEMU's CPU use over the same window (a QEMU whose /proc ticks cannot be read at both ends is left out). */
export async function measurePairLoad(
  pair: Pair,
  windowMs: number,
): Promise<ProcessLoad & { qemuCpuPercent: Record<string, number> }> {
  const vms = [...pair.vms.values()];
  const ticksBefore = await Promise.all(vms.map((vm) => readProcessCpuTicks(vm.machine.pid)));
  const startedAtMs = performance.now();
  const load = await measureProcessLoad(windowMs);
  const elapsedMs = performance.now() - startedAtMs;
  const ticksAfter = await Promise.all(vms.map((vm) => readProcessCpuTicks(vm.machine.pid)));
  const qemuCpuPercent: Record<string, number> = {};
  vms.forEach((vm, index) => {
    const before = ticksBefore[index];
    const after = ticksAfter[index];
    // A QEMU not readable at both ends has no figure for the window (not 0, not its whole life).
    if (before === undefined || after === undefined) return;
    const used = after - before;
    qemuCpuPercent[vm.machine.spec.name] = roundTenth(
      ((used * 1000) / CLOCK_TICKS_PER_SECOND / elapsedMs) * 100,
    );
  });
  return { ...load, qemuCpuPercent };
}

/** `calls` sequential query-status round trips to the active QEMU, in ms: median, spread and p99. */
export async function measureQmpRoundTrip(pair: Pair, calls: number): Promise<Spread & { p99: number }> {
  const qmp = pair.activeVm?.machine.qmp;
  if (qmp === undefined) throw new BenchError('QMP round trip', 'the pair has no active VM to query');
  const timesMs: number[] = [];
  for (let call = 0; call < calls; call += 1) {
    const startedAtMs = performance.now();
    await queryStatus(qmp);
    timesMs.push(performance.now() - startedAtMs);
  }
  return { ...summarize(timesMs.map((ms) => Math.round(ms * 100) / 100)), p99: quantile(timesMs, 0.99) };
}
