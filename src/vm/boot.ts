// Boots one guest to its agent's hello: run directory, QEMU, QMP, hello; cleans up on failure.
import type { Hello } from '../agent/protocol.js';
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
 * Launches `spec` (its runDir is created fresh under `runParent`) and waits for the agent's hello.
 * On any failure QEMU is killed and the error rethrown; the run directory is kept so its serial
 * console and QEMU log can be read (the error names them).
 */
export async function bootGuest(
  spec: Omit<MachineSpec, 'runDir'>,
  options: { runParent: string; log: Logger; helloTimeoutMs?: number },
): Promise<BootedGuest> {
  const runDir = await createRunDir(options.runParent, spec.name);
  const machine = await Machine.launch({ ...spec, runDir }, { log: options.log });
  try {
    const hello = await machine.waitForHello(options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS);
    const bootMs = (machine.agent.helloAtMs ?? performance.now()) - machine.spawnedAtMs;
    return { machine, hello, bootMs };
  } catch (error) {
    await machine.shutdown({ timeoutMs: 1000, keepRunDir: true });
    throw error;
  }
}
