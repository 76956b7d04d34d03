// Fencing: the host stops a VM and proves it by the QEMU process's exit, never by the guest's word.
import { FenceError } from '../errors.js';
import type { Logger } from '../log.js';
import { quitVm, stopVm } from '../qmp/commands.js';
import type { Machine } from '../vm/machine.js';

export type FenceHow = 'already-exited' | 'quit' | 'killed';

export interface FenceResult {
  how: FenceHow;
  /** Whether QMP `stop` was confirmed before quitting (false when QMP was already gone). */
  wasStopped: boolean;
  durationMs: number;
}

export interface FenceTimeouts {
  stopTimeoutMs: number;
  quitTimeoutMs: number;
  killTimeoutMs: number;
}

export const DEFAULT_FENCE_TIMEOUTS: FenceTimeouts = {
  stopTimeoutMs: 1000,
  quitTimeoutMs: 2000,
  killTimeoutMs: 5000,
};

/**
 * Fences `machine`: QMP `stop` (CPUs halted, confirmed by the reply), then `quit`, then SIGKILL,
 * until the process exit is seen. Throws FenceError when even SIGKILL is not followed by an exit
 * (for example a QEMU stuck in uninterruptible I/O): the caller must then go `blocked`.
 */
export async function fenceMachine(
  machine: Machine,
  options: { log: Logger; timeouts?: FenceTimeouts },
): Promise<FenceResult> {
  const timeouts = options.timeouts ?? DEFAULT_FENCE_TIMEOUTS;
  const startedAtMs = performance.now();
  const done = (how: FenceHow, wasStopped: boolean): FenceResult => ({
    how,
    wasStopped,
    durationMs: performance.now() - startedAtMs,
  });
  if (!machine.isRunning) return done('already-exited', false);
  let wasStopped = false;
  try {
    await withTimeout(stopVm(machine.qmp), timeouts.stopTimeoutMs);
    wasStopped = true;
  } catch (error) {
    // QMP may already be gone (QEMU dying) or hung: quit and SIGKILL below still fence.
    options.log.warn(
      { vm: machine.spec.name, err: (error as Error).message },
      'QMP stop not confirmed; escalating',
    );
  }
  quitVm(machine.qmp, timeouts.quitTimeoutMs).catch(() => undefined); // The exit is the confirmation.
  if (await exitsWithin(machine, timeouts.quitTimeoutMs)) return done('quit', wasStopped);
  options.log.warn({ vm: machine.spec.name }, 'QEMU did not quit; sending SIGKILL');
  // Send the signal without awaiting kill()'s own exit wait: a process that never exits must not hang us.
  machine.kill().catch(() => undefined);
  if (await exitsWithin(machine, timeouts.killTimeoutMs)) return done('killed', wasStopped);
  throw new FenceError(
    machine.spec.name,
    `QEMU pid ${machine.pid} did not exit within ${timeouts.killTimeoutMs} ms of SIGKILL`,
  );
}

async function exitsWithin(machine: Machine, timeoutMs: number): Promise<boolean> {
  const result = await Promise.race([machine.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
  return result;
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  return Promise.race([
    promise,
    sleep(timeoutMs).then(() => {
      throw new Error(`no answer within ${timeoutMs} ms`);
    }),
  ]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
