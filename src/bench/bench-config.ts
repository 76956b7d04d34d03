// Pairs the benchmarks run: N copies of kvd (hot standby, data disk) of a given size on a given base memory.
import { BenchError } from '../errors.js';
import { type AppConfig, defaultPairConfig, type PairConfig } from '../pair/config.js';
import { GiB, MiB } from '../units.js';

/** A guest memory block: a virtio-mem device smaller than one is refused by the guest's driver. */
const GUEST_BLOCK_BYTES = 128 * MiB;
const DATA_DISK_BYTES = 64 * MiB;
const FIRST_GUEST_PORT = 7000;

/**
 * The base memory a standby needs to take in `appBytes`: the kernel's memmap for added memory (1/64
 * of it) comes out of base memory. Measured: 96 MiB took 1 GiB, 128 MiB took 3 GiB; 192 MiB is the
 * choice for 4 GiB (64 MiB of memmap).
 */
export function standbyBaseBytesFor(appBytes: number): number {
  if (appBytes <= 1 * GiB) return 96 * MiB;
  if (appBytes <= 3 * GiB) return 128 * MiB;
  return 192 * MiB;
}

/**
 * `appCount` hot-standby kvd apps of `appSizeBytes` each (one is named `kvd`, several `kvd-0` …),
 * each with its own slot, guest port and data disk, on two guests of `baseBytes`; the pool holds
 * exactly the apps' memory. Fault injection is allowed (the benchmarks inject faults).
 */
export function benchPairConfig(
  stateDir: string,
  options: { appCount: number; appSizeBytes: number; baseBytes: number },
): PairConfig {
  const base = defaultPairConfig(stateDir);
  const template = base.apps.find((app) => app.hotStandby);
  if (template === undefined)
    throw new BenchError('config', 'the default pair has no hot-standby app to copy');
  const slotMaxBytes = Math.max(GUEST_BLOCK_BYTES, options.appSizeBytes);
  const apps: AppConfig[] = Array.from({ length: options.appCount }, (_, index) => {
    const name = options.appCount === 1 ? 'kvd' : `kvd-${index}`;
    const guestPort = FIRST_GUEST_PORT + index;
    return {
      ...template,
      name,
      slot: `slot${index}`,
      sizeBytes: options.appSizeBytes,
      slotMaxBytes,
      argv: ['/apps/kvd', '--port', String(guestPort), '--data', `/data/${name}`],
      guestPort,
      endpointPort: 0,
      diskBytes: DATA_DISK_BYTES,
    };
  });
  return {
    ...base,
    baseBytes: options.baseBytes,
    budgetBytes: 2 * options.baseBytes + base.monitorBytes + options.appCount * options.appSizeBytes,
    maxMemoryBytes: options.baseBytes + options.appCount * slotMaxBytes,
    apps,
  };
}
