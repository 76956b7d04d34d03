// Boots one guest to its agent's hello: run directory, QEMU, QMP, hello; cleans up on failure.
import type { Hello } from '../agent/protocol.js';
import { GuestUnsupportedError, VmLaunchError } from '../errors.js';
import type { Logger } from '../log.js';
import { createRunDir, Machine } from './machine.js';
import type { MachineSpec } from './spec.js';

export interface BootedGuest {
  machine: Machine;
  hello: Hello;
  /** From QEMU's spawn to the agent's hello, host monotonic clock. */
  bootMs: number;
}

export const DEFAULT_HELLO_TIMEOUT_MS = 60_000;

/**
 * Launches `spec` (its runDir is created fresh under `runParent`, before QEMU starts: the record a
 * later daemon finds it by, see recovery/launches.ts) and waits for the agent's hello, or for
 * QEMU's exit (VmLaunchError at once, not at the hello's deadline). On any failure QEMU is killed
 * and the error rethrown; the run directory is kept so its serial console and QEMU log can be read
 * (the error names them).
 */
export async function bootGuest(
  spec: Omit<MachineSpec, 'runDir'>,
  options: { runParent: string; log: Logger; helloTimeoutMs?: number },
): Promise<BootedGuest> {
  const runDir = await createRunDir(options.runParent, spec.name);
  const machine = await Machine.launch({ ...spec, runDir }, { log: options.log });
  try {
    const helloWait = machine.waitForHello(options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS);
    helloWait.catch(() => undefined); // Raced below; a timeout after QEMU's exit won is no news.
    const first = await Promise.race([
      helloWait.then((hello) => ({ hello })),
      machine.exited.then((status) => ({ status })),
    ]);
    if ('status' in first) {
      throw new VmLaunchError({
        vm: spec.name,
        detail: `QEMU exited before the agent's hello (see the serial console at ${machine.paths.serialLog})`,
        exitCode: first.status.code,
        signal: first.status.signal,
        argv: machine.argv,
        logTail: '',
      });
    }
    const { hello } = first;
    refuseUnsupported(spec.name, hello);
    const bootMs = (machine.agent.helloAtMs ?? performance.now()) - machine.spawnedAtMs;
    return { machine, hello, bootMs };
  } catch (error) {
    await machine.shutdown({ timeoutMs: 1000, keepRunDir: true });
    throw error;
  }
}

/** A guest whose agent says its kernel has no virtio-mem driver cannot take memory: refused (an older agent does not say, and is taken). */
export function refuseUnsupported(vm: string, hello: Hello): void {
  if (hello.virtioMem !== false) return;
  const kernelRelease =
    hello.kernelRelease === undefined || hello.kernelRelease === '' ? 'unknown' : hello.kernelRelease;
  throw new GuestUnsupportedError({
    vm,
    kernelRelease,
    detail: `its kernel ${kernelRelease} has no virtio-mem driver (the virtio_mem module; /sys/bus/virtio/drivers/virtio_mem is missing), and baton moves memory with virtio-mem: use a kernel with CONFIG_VIRTIO_MEM (Debian's linux-image-cloud-amd64 has it) or load the module before the agent starts`,
  });
}
