// What one VM is made of: the typed input of the argv builder and the launcher.
export type Accel = 'kvm' | 'tcg';
export type Role = 'active' | 'standby';

/**
 * QEMU's TCG translation cache per VM (`-accel tcg,tb-size=`), by default: small, so a tiny
 * standby stays small on the host. A systemd guest boots about twice as fast with 64 MiB.
 */
export const DEFAULT_TCG_CACHE_BYTES = 16 * 1024 * 1024;

/** One app slot: a memory-less guest NUMA node with one virtio-mem device on it. */
export interface MemorySlotSpec {
  /** Stable slot id, e.g. `slot0`; device id is `vmem-<id>`, backend `mem-<id>`. */
  id: string;
  maxSizeBytes: number;
  requestedSizeBytes: number;
  blockSizeBytes: number;
}

export interface MachineSpec {
  /** Stable VM name (`vm-a`, `vm-b`): used in logs, QEMU's -name and the guest's hostname. */
  name: string;
  role: Role;
  accel: Accel;
  cpus: number;
  baseMemoryBytes: number;
  /** Upper bound of base plus all hot-pluggable memory (QEMU `maxmem`). */
  maxMemoryBytes: number;
  slots: readonly MemorySlotSpec[];
  /** Direct kernel boot; absent: the root disk boots through the firmware (SeaBIOS) and its own bootloader. */
  kernelPath?: string;
  initrdPath?: string;
  /** The image's own kernel arguments (`root=LABEL=root ro`), placed before baton's. */
  imageCmdline?: string;
  /** A root disk (a qcow2 overlay on a read-only base); absent for the built-in initramfs guest. */
  rootDisk?: RootDiskSpec;
  heartbeatMs: number;
  /** Private directory (0700) holding the VM's sockets, pid file, log and console. */
  runDir: string;
  /** TCG translation cache in MiB; small keeps a tiny guest's host RSS small. */
  tcgTbSizeMiB: number;
  extraKernelArgs?: readonly string[];
  /** User networking (restricted: the guest reaches nothing outside) with these loopback forwards. */
  hostForwards?: readonly HostForward[];
  /** Empty PCIe root ports for hot-adding data disks (q35 needs one free port per disk). */
  spareRootPorts?: number;
}

/** The VM's root disk: its own overlay, on a base shared with the other VM and never written. */
export interface RootDiskSpec {
  overlayPath: string;
  basePath: string;
  baseFormat: 'qcow2' | 'raw';
  /** The base as a descriptor QEMU inherits (read-only), so its folder and file need not be open to QEMU's user. */
  baseFd?: number;
}

/** The root disk's device id (a fixed id on the q35 root bus, not a hot-plug root port). */
export const ROOT_DISK_DEVICE_ID = 'root-disk';
/** The root disk's serial inside the guest (`/sys/block/vda/serial`). */
export const ROOT_DISK_SERIAL = 'baton-root';

/** Host 127.0.0.1:hostPort → guest guestPort (TCP), through QEMU's user networking. */
export interface HostForward {
  hostPort: number;
  guestPort: number;
}

/** The id of spare root port `index`, for `device_add ... bus=<id>`. */
export function spareRootPortId(index: number): string {
  return `rp-spare${index}`;
}

/** Where a VM's files live inside its run directory. */
export interface RunPaths {
  qmpSocket: string;
  agentSocket: string;
  pidFile: string;
  serialLog: string;
  qemuLog: string;
}

/** The agent port's name inside the guest (`/sys/class/virtio-ports/*\/name`). */
export const AGENT_PORT_NAME = 'org.baton.agent.0';

export function runPathsOf(runDir: string): RunPaths {
  return {
    qmpSocket: `${runDir}/qmp.sock`,
    agentSocket: `${runDir}/agent.sock`,
    pidFile: `${runDir}/qemu.pid`,
    serialLog: `${runDir}/serial.log`,
    qemuLog: `${runDir}/qemu.log`,
  };
}
