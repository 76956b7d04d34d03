// The built-in config (the demo's pair), the same as contrib/baton.yaml: two 96 MiB guests, kvd hot-standby, cache ordinary.
import { MiB } from '../units.js';
import {
  DEFAULT_ACCEL,
  DEFAULT_BASE_MEMORY_BYTES,
  DEFAULT_BLOCK_SIZE_BYTES,
  DEFAULT_CPUS,
  DEFAULT_FAILURES_TO_UNHEALTHY,
  DEFAULT_HEALTH_CHECK_TIMEOUT_MS,
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_HEARTBEAT_SILENCE_MS,
  DEFAULT_HELLO_TIMEOUT_MS,
  DEFAULT_MECHANISM,
  DEFAULT_MONITOR_BYTES,
  DEFAULT_QMP_TIMEOUT_MS,
  DEFAULT_RESTART_MAX,
  DEFAULT_RESTART_WINDOW_MS,
  DEFAULT_STATE_DIR,
  DEFAULT_SYNC_TIMEOUT_MS,
  DEFAULT_TCG_CACHE_BYTES,
  DEFAULT_VM_NAMES,
} from './schema.js';
import type { BatonConfig } from './types.js';

/**
 * The demo's pair (what `defaultPairConfig` builds): 736 MiB budget = two 96 MiB bases + 32 MiB
 * monitor + a 512 MiB pool for app memory; kvd with 128 MiB (its slot can grow to 512 MiB) and a
 * 64 MiB data disk, hot-standby; cache with 32 MiB (its slot can grow to 128 MiB, the guest's memory
 * block), ordinary, no data disk. Fault injection is allowed because the demo injects faults.
 */
export const DEFAULT_CONFIG: BatonConfig = Object.freeze({
  budgetBytes: 736 * MiB,
  blockBytes: DEFAULT_BLOCK_SIZE_BYTES,
  monitorBytes: DEFAULT_MONITOR_BYTES,
  mechanism: DEFAULT_MECHANISM,
  stateDir: DEFAULT_STATE_DIR,
  accel: DEFAULT_ACCEL,
  vms: Object.freeze({
    names: Object.freeze([DEFAULT_VM_NAMES[0], DEFAULT_VM_NAMES[1]] as const),
    baseMemoryBytes: DEFAULT_BASE_MEMORY_BYTES,
    maxMemoryBytes: 2048 * MiB,
    cpus: DEFAULT_CPUS,
    image: Object.freeze({ kind: 'builtin' as const }),
    tcgCacheBytes: DEFAULT_TCG_CACHE_BYTES,
  }),
  heartbeatMs: DEFAULT_HEARTBEAT_MS,
  detection: Object.freeze({
    heartbeatSilenceMs: DEFAULT_HEARTBEAT_SILENCE_MS,
    syncTimeoutMs: DEFAULT_SYNC_TIMEOUT_MS,
    qmpTimeoutMs: DEFAULT_QMP_TIMEOUT_MS,
    helloTimeoutMs: DEFAULT_HELLO_TIMEOUT_MS,
    healthTimeoutMs: DEFAULT_HEALTH_TIMEOUT_MS,
  }),
  isFaultInjectionAllowed: true,
  apps: Object.freeze([
    Object.freeze({
      name: 'kvd',
      slot: 'slot0',
      argv: Object.freeze(['/apps/kvd', '--port', '7000', '--data', '/data/kvd']),
      memoryBytes: 128 * MiB,
      slotMaxBytes: 512 * MiB,
      hotStandby: true,
      guestPort: 7000,
      endpointPort: 0,
      health: Object.freeze({
        intervalMs: DEFAULT_HEALTH_INTERVAL_MS,
        timeoutMs: DEFAULT_HEALTH_CHECK_TIMEOUT_MS,
        failuresToUnhealthy: DEFAULT_FAILURES_TO_UNHEALTHY,
      }),
      restart: Object.freeze({ max: DEFAULT_RESTART_MAX, windowMs: DEFAULT_RESTART_WINDOW_MS }),
      dataDiskBytes: 64 * MiB,
    }),
    Object.freeze({
      name: 'cache',
      slot: 'slot1',
      argv: Object.freeze(['/apps/kvd', '--port', '7001', '--data', '/tmp/cache']),
      memoryBytes: 32 * MiB,
      slotMaxBytes: 128 * MiB,
      hotStandby: false,
      guestPort: 7001,
      endpointPort: 0,
      health: Object.freeze({
        intervalMs: DEFAULT_HEALTH_INTERVAL_MS,
        timeoutMs: DEFAULT_HEALTH_CHECK_TIMEOUT_MS,
        failuresToUnhealthy: DEFAULT_FAILURES_TO_UNHEALTHY,
      }),
      restart: Object.freeze({ max: DEFAULT_RESTART_MAX, windowMs: DEFAULT_RESTART_WINDOW_MS }),
    }),
  ]),
  metrics: Object.freeze({}),
});
