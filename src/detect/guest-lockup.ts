// Kernel arguments that turn the guest kernel's own lockup detectors into panics pvpanic reports.

/**
 * Appended to a guest's kernel command line (MachineSpec.extraKernelArgs): a soft lockup (a CPU
 * stuck in the kernel for 2 × watchdog_thresh, 20 s by default) or a hard lockup (NMI watchdog,
 * where the guest has a PMU) panics the guest, pvpanic turns the panic into QMP GUEST_PANICKED,
 * and the panic detector handles it as fatal. Hangs the kernel does not see (userspace, agent, a
 * stalled vCPU thread) are HangDetector's job.
 */
export const GUEST_LOCKUP_KERNEL_ARGS: readonly string[] = Object.freeze([
  'softlockup_panic=1',
  'hardlockup_panic=1',
]);
