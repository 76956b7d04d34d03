// A VM that has its apps' full memory from boot: what restart-based HA boots and what a static standby keeps.
import type { PairConfig } from '../pair/config.js';
import { bootPairVm, type PairVm } from '../pair/vm-factory.js';
import type { Role } from '../vm/spec.js';
import type { BenchContext } from './bench-pair.js';

/** Boots `name` like a pair VM, but with every app's slot plugged to the app's size on QEMU's command line. */
export function bootFullSizeVm(
  ctx: BenchContext,
  config: PairConfig,
  name: string,
  role: Role,
): Promise<PairVm> {
  return bootPairVm(config, name, role, { accel: ctx.accel, log: ctx.log, isPluggedAtBoot: true });
}

/** The memory the VM's guest is given: its base and every slot's plugged size. */
export function givenBytesOf(config: PairConfig): number {
  return config.baseBytes + config.apps.reduce((sum, app) => sum + app.sizeBytes, 0);
}
