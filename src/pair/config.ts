// The pair's configuration: budget, the two VMs, the protected apps; and the built-in default.
import { join } from 'node:path';
import type { VmImageSettings } from '../config/types.js';
import { MiB } from '../units.js';
import { DEFAULT_TCG_CACHE_BYTES } from '../vm/spec.js';

export interface AppConfig {
  name: string;
  /** Slot id on both VMs (the standby mirrors the active's slots). */
  slot: string;
  sizeBytes: number;
  slotMaxBytes: number;
  hotStandby: boolean;
  /** argv inside the guest (argv[0] an absolute path); exactly one of argv and unit. */
  argv?: readonly string[];
  /** A systemd service in the guest (docs/config.md, apps[].unit). */
  unit?: string;
  /** argv apps: who the app runs as, its extra environment, its working directory. */
  user?: string;
  group?: string;
  env?: Readonly<Record<string, string>>;
  workdir?: string;
  /** Where the data disk is mounted (default /data/<name>), its owner and its prepare command. */
  dataDisk?: { mountPoint?: string; owner?: string; prepare?: readonly string[] };
  /** The port the app listens on in the guest. */
  guestPort: number;
  /** The stable endpoint on the host (127.0.0.1); 0 picks a free port. */
  endpointPort: number;
  /** A data disk of this size, mounted at /data/<name> wherever the app runs. */
  diskBytes?: number;
  /** The agent's health check of the app (default: line, PING/PONG on its guest port). */
  health?: {
    kind?: 'line' | 'tcp' | 'http' | 'exec';
    send?: string;
    expect?: string;
    path?: string;
    argv?: readonly string[];
    intervalMs: number;
    timeoutMs: number;
    failuresToUnhealthy: number;
  };
  /** Restarts in place allowed within a window before the app is moved instead. */
  restart?: { max: number; windowMs: number };
}

export interface PairConfig {
  budgetBytes: number;
  blockBytes: number;
  monitorBytes: number;
  /** VM names; the first starts as the active. */
  vmNames: readonly [string, string];
  /** Base memory of both guests: their OS areas (a VM is full-size through its plugged app slots). */
  baseBytes: number;
  maxMemoryBytes: number;
  cpus: number;
  /** What both VMs boot; absent means the built-in kernel and initramfs. */
  image?: VmImageSettings;
  /** QEMU's TCG translation cache per VM; absent means 16 MiB. Unused under KVM. */
  tcgCacheBytes?: number;
  heartbeatMs: number;
  apps: readonly AppConfig[];
  stateDir: string;
  /** Lets the agent honour fault-injection requests (tests and the demo). */
  isFaultInjectionAllowed: boolean;
  helloTimeoutMs: number;
  healthTimeoutMs: number;
  /** Hang detection; unset fields take the detector's documented defaults (src/detect/thresholds.ts). */
  hangThresholds?: { heartbeatSilenceMs?: number; syncTimeoutMs?: number; qmpTimeoutMs?: number };
}

/**
 * The demo's pair: two 96 MiB guests, a hot-standby `kvd` with 128 MiB and a 64 MiB data disk, and
 * an ordinary app `cache` (a second kvd on port 7001 keeping its data in the guest's /tmp) with
 * 32 MiB that its guest agent requests from the pool.
 */
export function defaultPairConfig(stateDir: string): PairConfig {
  return {
    budgetBytes: 96 * MiB * 2 + 32 * MiB + 512 * MiB,
    blockBytes: 2 * MiB,
    monitorBytes: 32 * MiB,
    vmNames: ['vm-a', 'vm-b'],
    baseBytes: 96 * MiB,
    maxMemoryBytes: 2048 * MiB,
    cpus: 1,
    image: { kind: 'builtin' },
    tcgCacheBytes: DEFAULT_TCG_CACHE_BYTES,
    heartbeatMs: 500,
    apps: [
      {
        name: 'kvd',
        slot: 'slot0',
        sizeBytes: 128 * MiB,
        slotMaxBytes: 512 * MiB,
        hotStandby: true,
        argv: ['/apps/kvd', '--port', '7000', '--data', '/data/kvd'],
        guestPort: 7000,
        endpointPort: 0,
        diskBytes: 64 * MiB,
        health: { intervalMs: 1000, timeoutMs: 500, failuresToUnhealthy: 3 },
        restart: { max: 3, windowMs: 60_000 },
      },
      {
        name: 'cache',
        slot: 'slot1',
        sizeBytes: 32 * MiB,
        // The guest's memory block is 128 MiB: a virtio-mem device smaller than one is refused by its driver.
        slotMaxBytes: 128 * MiB,
        hotStandby: false,
        argv: ['/apps/kvd', '--port', '7001', '--data', '/tmp/cache'],
        guestPort: 7001,
        endpointPort: 0,
        health: { intervalMs: 1000, timeoutMs: 500, failuresToUnhealthy: 3 },
        restart: { max: 3, windowMs: 60_000 },
      },
    ],
    stateDir,
    isFaultInjectionAllowed: true,
    helloTimeoutMs: 60_000,
    healthTimeoutMs: 20_000,
    hangThresholds: { heartbeatSilenceMs: 3000, syncTimeoutMs: 1000, qmpTimeoutMs: 2000 },
  };
}

export function diskPathOf(config: PairConfig, app: string): string {
  return join(config.stateDir, 'disks', `${app}.img`);
}
