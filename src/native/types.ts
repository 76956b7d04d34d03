// The contract of the baton_native addon: every export and the values it returns.

/** Capabilities probeKvm queries with KVM_CHECK_EXTENSION, keyed by their kernel names. */
export type KvmCapabilityName =
  | 'KVM_CAP_USER_MEMORY'
  | 'KVM_CAP_IRQCHIP'
  | 'KVM_CAP_HLT'
  | 'KVM_CAP_NR_VCPUS'
  | 'KVM_CAP_MAX_VCPUS'
  | 'KVM_CAP_NR_MEMSLOTS'
  | 'KVM_CAP_SET_TSS_ADDR'
  | 'KVM_CAP_EXT_CPUID';

/** Which KVM vendor modules have a directory under /sys/module (loaded or built in). */
export interface KvmModules {
  readonly kvmIntel: boolean;
  readonly kvmAmd: boolean;
  readonly kvmPvm: boolean;
}

/** What /dev/kvm (or another device path) and the loaded modules say about running QEMU with KVM. */
export interface KvmProbe {
  readonly devicePath: string;
  /** False when the device node does not exist. */
  readonly present: boolean;
  /** True when open(O_RDWR) succeeded, even if the device then turned out not to be KVM. */
  readonly openable: boolean;
  /** KVM_GET_API_VERSION; null when the device could not be opened or is not KVM. */
  readonly apiVersion: number | null;
  /** KVM_CHECK_EXTENSION results (0 = absent); empty unless apiVersion is 12. */
  readonly capabilities: Readonly<Partial<Record<KvmCapabilityName, number>>>;
  readonly modules: KvmModules;
  /** True when a stock guest kernel can run under QEMU with this device. */
  readonly usable: boolean;
  /** Why `usable` is what it is, including how to fix it when it is false. */
  readonly reason: string;
}

/** A watch on one process's exit, from watchProcess. */
export interface ProcessWatch {
  /** Stops watching and closes the pidfd; onExit is never called afterwards. Idempotent. */
  close(): void;
}

/** Who is on the other end of a connected unix socket (SO_PEERCRED), as of connect() or socketpair(). */
export interface PeerCredentials {
  /** 0 when the peer's process is outside this process's PID namespace. */
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

/** Every export of baton_native.node. */
export interface NativeBinding {
  /**
   * Probes a KVM device (default /dev/kvm) off the main thread. A missing, forbidden or non-KVM
   * device is a result, not an error. Rejects with NativeError only on unexpected failures.
   */
  probeKvm(devicePath?: string): Promise<KvmProbe>;

  /**
   * Calls `onExit` once, on the main thread, when process `pid` exits (any process, not only
   * children; one that already exited but is not reaped yet counts at once). Uses a pidfd
   * (pidfd_open, Linux >= 5.3) polled by libuv on the main loop: no thread.
   *
   * The watch does not keep Node running on its own (its libuv handle is unref'd): whatever owns
   * the process (a ChildProcess, a QMP socket, a server) keeps the loop alive, and a forgotten
   * watch never holds up shutdown. An exception thrown by `onExit` becomes an uncaught exception.
   * A pid is only a number: watch before the process can be reaped and its pid reused.
   * @throws NativeError ESRCH when no process has that pid, ENOSYS on kernels without pidfd_open.
   * @throws TypeError for a pid that is not an integer from 1 to 2^31-1, or a non-function onExit.
   */
  watchProcess(pid: number, onExit: () => void): ProcessWatch;

  /**
   * SO_PEERCRED of a connected unix socket fd (for a net.Socket: `socket._handle.fd`).
   * @throws NativeError ENOTSOCK for a non-socket; NO_PEER_CREDENTIALS for an unconnected or
   *   non-unix socket.
   */
  peerCredentials(fd: number): PeerCredentials;

  /**
   * memfd_create(name, MFD_CLOEXEC) sized to `sizeBytes` (reads as zeros). Returns the fd;
   * the caller closes it with fs.closeSync.
   * @throws NativeError EINVAL for a name longer than 249 bytes, EMFILE, ENOMEM.
   */
  memfdCreate(name: string, sizeBytes: number): number;

  /** pwrite of every byte of `data` at `offsetBytes`; writing past the end grows the memfd. */
  memfdWrite(fd: number, offsetBytes: number, data: Uint8Array): void;

  /** pread of `lengthBytes` at `offsetBytes`; shorter only where the range passes the end of the file. */
  memfdRead(fd: number, offsetBytes: number, lengthBytes: number): Buffer;

  /**
   * fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) off the main thread: frees the range's
   * memory, which then reads as zeros; the size stays. `lengthBytes` must be at least 1.
   * @throws NativeError with the errno (EBADF for an fd not open for writing, EOPNOTSUPP, ...).
   */
  punchHole(fd: number, offsetBytes: number, lengthBytes: number): Promise<void>;

  /**
   * punchHole, then reads the range back off the main thread (1 MiB at a time) and checks every
   * byte is zero. Bytes past the end of the file are not there to check.
   * @throws NativeError SCRUB_FAILED naming the first non-zero offset; punchHole's errors.
   */
  scrubArea(fd: number, offsetBytes: number, lengthBytes: number): Promise<void>;
}

// A Record over keyof NativeBinding, so adding an export to the interface without listing it fails to compile.
const exportKinds: Record<keyof NativeBinding, 'function'> = {
  probeKvm: 'function',
  watchProcess: 'function',
  peerCredentials: 'function',
  memfdCreate: 'function',
  memfdWrite: 'function',
  memfdRead: 'function',
  punchHole: 'function',
  scrubArea: 'function',
};

/** The names of every export, for the loader's completeness check and the contract test. */
export const NATIVE_EXPORT_NAMES = Object.keys(exportKinds) as readonly (keyof NativeBinding)[];

/** Codes of NativeErrors that are not an errno name. */
export const NATIVE_ERROR_CODES = {
  /** scrubArea read a non-zero byte back after punching the hole. */
  scrubFailed: 'SCRUB_FAILED',
  /** peerCredentials on a socket with no peer credentials. */
  noPeerCredentials: 'NO_PEER_CREDENTIALS',
} as const;
