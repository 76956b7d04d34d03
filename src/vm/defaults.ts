// The built-in pair: a full-size active guest and a deliberately tiny standby, as the demo runs them.
import { defaultImagePaths } from '../paths.js';
import { MiB } from '../units.js';
import { type Accel, DEFAULT_TCG_CACHE_BYTES, type MachineSpec } from './spec.js';

export const DEFAULT_HEARTBEAT_MS = 500;
export const DEFAULT_BLOCK_BYTES = 2 * MiB;
/** The smallest base memory the cloud kernel and our initramfs boot in (see README). */
export const STANDBY_BASE_BYTES = 96 * MiB;
export const ACTIVE_BASE_BYTES = 256 * MiB;
export const APP_SLOT_MAX_BYTES = 1024 * MiB;
export const APP_SLOT_BYTES = 128 * MiB;

/** The active and standby specs (without run directories) for the given accelerator. */
export function defaultPairSpecs(accel: Accel): Array<Omit<MachineSpec, 'runDir'>> {
  const image = defaultImagePaths();
  const common = {
    accel,
    cpus: 1,
    maxMemoryBytes: 4096 * MiB,
    kernelPath: image.kernelPath,
    initrdPath: image.initrdPath,
    heartbeatMs: DEFAULT_HEARTBEAT_MS,
    tcgTbSizeMiB: DEFAULT_TCG_CACHE_BYTES / MiB,
  };
  const slot = (requestedSizeBytes: number) => [
    {
      id: 'slot0',
      maxSizeBytes: APP_SLOT_MAX_BYTES,
      requestedSizeBytes,
      blockSizeBytes: DEFAULT_BLOCK_BYTES,
    },
  ];
  return [
    {
      ...common,
      name: 'vm-a',
      role: 'active',
      baseMemoryBytes: ACTIVE_BASE_BYTES,
      slots: slot(APP_SLOT_BYTES),
    },
    { ...common, name: 'vm-b', role: 'standby', baseMemoryBytes: STANDBY_BASE_BYTES, slots: slot(0) },
  ];
}
