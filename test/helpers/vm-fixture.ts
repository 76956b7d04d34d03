// Integration fixture: boots real guests, tracks every QEMU it starts, and kills them all at teardown.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base } from 'vitest';
import { createLogger, type Logger } from '../../src/log.js';
import { defaultImagePaths } from '../../src/paths.js';
import { MiB } from '../../src/units.js';
import type { AccelDecision } from '../../src/vm/accel.js';
import { type BootedGuest, bootGuest } from '../../src/vm/boot.js';
import { resolveAccel } from '../../src/vm/host-accel.js';
import type { Machine } from '../../src/vm/machine.js';
import { openForTraversal } from '../../src/vm/qemu-user.js';
import type { MachineSpec } from '../../src/vm/spec.js';

let accelDecision: Promise<AccelDecision> | undefined;

/** The accelerator `--accel auto` picks on this host, decided once per test file and printed. */
export function hostAccel(): Promise<AccelDecision> {
  accelDecision ??= resolveAccel('auto').then((decision) => {
    console.log(`[integration] accelerator ${decision.accel}: ${decision.reason}`);
    return decision;
  });
  return accelDecision;
}

/** A small guest spec with one empty virtio-mem slot, on the host's accelerator. */
export async function smallGuestSpec(
  name: string,
  overrides: Partial<MachineSpec> = {},
): Promise<Omit<MachineSpec, 'runDir'>> {
  const image = defaultImagePaths();
  return {
    name,
    role: 'standby',
    accel: (await hostAccel()).accel,
    cpus: 1,
    baseMemoryBytes: 128 * MiB,
    maxMemoryBytes: 2048 * MiB,
    slots: [{ id: 'slot0', maxSizeBytes: 512 * MiB, requestedSizeBytes: 0, blockSizeBytes: 2 * MiB }],
    kernelPath: image.kernelPath,
    initrdPath: image.initrdPath,
    heartbeatMs: 200,
    tcgTbSizeMiB: 16,
    ...overrides,
  };
}

export interface VmFixture {
  runParent: string;
  log: Logger;
  boot(spec: Omit<MachineSpec, 'runDir'>, helloTimeoutMs?: number): Promise<BootedGuest>;
  track(machine: Machine): void;
}

export const test = base.extend<{ vms: VmFixture }>({
  vms: async ({ task }, use) => {
    const runParent = mkdtempSync(join(tmpdir(), 'baton-it-'));
    openForTraversal(runParent); // As the daemon does: QEMU's own user passes through to its run directory.
    const log = createLogger({ level: process.env.BATON_LOG_LEVEL ?? 'warn' });
    const machines: Machine[] = [];
    const fixture: VmFixture = {
      runParent,
      log,
      track: (machine) => machines.push(machine),
      boot: async (spec, helloTimeoutMs) => {
        const guest = await bootGuest(spec, {
          runParent,
          log,
          ...(helloTimeoutMs === undefined ? {} : { helloTimeoutMs }),
        });
        machines.push(guest.machine);
        return guest;
      },
    };
    await use(fixture);
    const failed = task.result?.state === 'fail' || (task.result?.errors?.length ?? 0) > 0;
    for (const machine of machines) {
      if (failed) {
        console.log(
          `[integration] ${machine.spec.name}: QEMU log ${machine.paths.qemuLog}, serial console ${machine.paths.serialLog}`,
        );
      }
      await machine.kill();
      await machine.shutdown({ keepRunDir: failed });
    }
    if (!failed) rmSync(runParent, { recursive: true, force: true });
  },
});
