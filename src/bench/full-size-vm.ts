// A VM that has its apps' full memory from boot: what restart-based HA boots and what a static standby keeps.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PairConfig } from '../pair/config.js';
import { type PairVm, pairVmSpec } from '../pair/vm-factory.js';
import { bootGuest } from '../vm/boot.js';
import { openForTraversal } from '../vm/qemu-user.js';
import type { Role } from '../vm/spec.js';
import type { BenchContext } from './bench-pair.js';

/** Boots `name` like a pair VM, but with every app's slot plugged to the app's size on QEMU's command line. */
export async function bootFullSizeVm(
  ctx: BenchContext,
  config: PairConfig,
  name: string,
  role: Role,
): Promise<PairVm> {
  const runParent = join(config.stateDir, 'run');
  await mkdir(runParent, { recursive: true, mode: 0o700 });
  openForTraversal(config.stateDir); // QEMU's own user passes through to its run directory.
  openForTraversal(runParent);
  const { spec, forwards } = await pairVmSpec(config, name, role, ctx.accel);
  const slots = spec.slots.map((slot) => ({
    ...slot,
    requestedSizeBytes: config.apps.find((app) => app.slot === slot.id)?.sizeBytes ?? 0,
  }));
  const guest = await bootGuest(
    { ...spec, slots },
    { runParent, log: ctx.log, helloTimeoutMs: config.helloTimeoutMs },
  );
  return { ...guest, forwards };
}

/** The memory the VM's guest is given: its base and every slot's plugged size. */
export function givenBytesOf(config: PairConfig): number {
  return config.baseBytes + config.apps.reduce((sum, app) => sum + app.sizeBytes, 0);
}
