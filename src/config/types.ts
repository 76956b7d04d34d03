// The validated configuration as the rest of baton reads it: sizes in bytes, durations in ms, all readonly.
import type { AccelRequest } from '../vm/accel.js';
import type { ListenAddress } from './fields.js';

export type MemoryMechanismName = 'virtio-mem';

/** How the agent checks an app (docs/config.md): `line` sends and expects a line (kvd's PING/PONG). */
export type AppHealthKind = 'line' | 'tcp' | 'http' | 'exec';

export interface AppHealthSettings {
  /** Absent: `line` with PING/PONG. */
  readonly kind?: AppHealthKind;
  /** line: what is sent (default PING) and what the answer must start with (default PONG). */
  readonly send?: string;
  readonly expect?: string;
  /** http: the path of the GET (default /); a 2xx status is healthy. */
  readonly path?: string;
  /** exec: run in the guest; exit 0 within timeoutMs is healthy. */
  readonly argv?: readonly string[];
  /** Time between two health checks of a running app. */
  readonly intervalMs: number;
  /** How long one check waits for PONG. */
  readonly timeoutMs: number;
  /** Failed checks in a row that count as a hang. */
  readonly failuresToUnhealthy: number;
}

export interface AppRestartSettings {
  /** Restarts in place allowed within `windowMs`; one more failure is severe (the app moves). */
  readonly max: number;
  readonly windowMs: number;
}

export interface AppSettings {
  readonly name: string;
  /** Slot id on both VMs: `slot0`, `slot1`, ... in the order of the file. */
  readonly slot: string;
  /** argv inside the guest (argv[0] an absolute path); exactly one of argv and unit. */
  readonly argv?: readonly string[];
  /** A systemd service in the guest, started and followed through systemctl. */
  readonly unit?: string;
  /** argv apps only: who the app runs as, its extra environment and its working directory. */
  readonly user?: string;
  readonly group?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly workdir?: string;
  readonly memoryBytes: number;
  readonly slotMaxBytes: number;
  readonly hotStandby: boolean;
  /** The port the app listens on in the guest. */
  readonly guestPort: number;
  /** The stable endpoint on the host (127.0.0.1); 0 picks a free port. */
  readonly endpointPort: number;
  readonly health: AppHealthSettings;
  readonly restart: AppRestartSettings;
  /** A data disk of this size, mounted at /data/<name> (or dataDisk.mountPoint) wherever the app runs. */
  readonly dataDiskBytes?: number;
  /** Only when the config gives dataDisk as a mapping. */
  readonly dataDisk?: AppDataDiskSettings;
}

export interface AppDataDiskSettings {
  /** Where the guest mounts it; default /data/<name>. */
  readonly mountPoint?: string;
  /** `user[:group]` given the disk's root when its file system is empty; default the app's user and group. */
  readonly owner?: string;
  /** Run once, as the owner, when the file system is empty (initdb). */
  readonly prepare?: readonly string[];
}

export interface DetectionSettings {
  /** Agent silence after which a hang is suspected (and confirmed by a sync before acting). */
  readonly heartbeatSilenceMs: number;
  /** Deadline of the sync handshake that confirms a silent agent. */
  readonly syncTimeoutMs: number;
  /** Deadline of one QMP command. */
  readonly qmpTimeoutMs: number;
  /** Deadline from QEMU launch to the agent's hello. */
  readonly helloTimeoutMs: number;
  /** Deadline from an app's start to its first healthy check. */
  readonly healthTimeoutMs: number;
}

/**
 * What both VMs boot: baton's built-in kernel and initramfs, or a disk image (paths absolute,
 * resolved against the config file's folder). Unset kernel, initrd and cmdline come from the
 * image's `boot.json` (src/vm/boot-json.ts) unless `isFirmwareBoot`.
 */
export type VmImageSettings =
  | { readonly kind: 'builtin' }
  | {
      readonly kind: 'disk';
      readonly diskPath: string;
      readonly kernelPath?: string;
      readonly initrdPath?: string;
      readonly cmdline?: string;
      /** Boot the image's own bootloader (SeaBIOS); baton's kernel arguments cannot be passed. */
      readonly isFirmwareBoot: boolean;
    };

export interface VmSettings {
  /** The first starts as the active. */
  readonly names: readonly [string, string];
  readonly baseMemoryBytes: number;
  readonly maxMemoryBytes: number;
  readonly cpus: number;
  readonly image: VmImageSettings;
  /** QEMU's TCG translation cache per VM (whole MiB); unused under KVM. */
  readonly tcgCacheBytes: number;
}

export interface BatonConfig {
  readonly budgetBytes: number;
  readonly blockBytes: number;
  readonly monitorBytes: number;
  readonly mechanism: MemoryMechanismName;
  readonly stateDir: string;
  readonly accel: AccelRequest;
  readonly vms: VmSettings;
  readonly heartbeatMs: number;
  readonly detection: DetectionSettings;
  readonly isFaultInjectionAllowed: boolean;
  readonly apps: readonly AppSettings[];
  readonly metrics: { readonly listen?: Readonly<ListenAddress> };
}
