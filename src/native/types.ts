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

/** Every export of baton_native.node. */
export interface NativeBinding {
  /**
   * Probes a KVM device (default /dev/kvm) off the main thread. A missing, forbidden or non-KVM
   * device is a result, not an error. Rejects with NativeError only on unexpected failures.
   */
  probeKvm(devicePath?: string): Promise<KvmProbe>;
}

// A Record over keyof NativeBinding, so adding an export to the interface without listing it fails to compile.
const exportKinds: Record<keyof NativeBinding, 'function'> = { probeKvm: 'function' };

/** The names of every export, for the loader's completeness check and the contract test. */
export const NATIVE_EXPORT_NAMES = Object.keys(exportKinds) as readonly (keyof NativeBinding)[];
