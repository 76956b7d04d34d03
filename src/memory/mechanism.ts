// The memory mechanism's interface: set a slot's size in a running VM, wait until the guest has it, observe.
import type { QmpClient } from '../qmp/client.js';
import type { Machine } from '../vm/machine.js';
import type { MemorySlotSpec } from '../vm/spec.js';

/** A slot's fixed limits, as the VM was launched with them (a MachineSpec's slots fit as they are). */
export type MemorySlotLimits = Pick<MemorySlotSpec, 'id' | 'maxSizeBytes' | 'blockSizeBytes'>;

/** The VM a mechanism acts on: its name for messages, its QMP connection, and its slots' limits. */
export interface MemoryTarget {
  readonly name: string;
  readonly qmp: QmpClient;
  readonly slots: readonly MemorySlotLimits[];
}

/** How a completion or a size was seen: QEMU's MEMORY_DEVICE_SIZE_CHANGE event or a query-memory-devices poll. */
export type SeenBy = 'event' | 'poll';

/** Which way a resize goes: growing a slot plugs blocks, shrinking it unplugs them (slower). */
export type MemoryOperation = 'plug' | 'unplug';

/** How long a resize may wait: `stuckAfterMs` without any change of size, `deadlineMs` in all. */
export interface WaitLimits {
  stuckAfterMs: number;
  deadlineMs: number;
}

export type ResizeOptions = Partial<WaitLimits>;

export const DEFAULT_PLUG_LIMITS: WaitLimits = { stuckAfterMs: 5_000, deadlineMs: 60_000 };
export const DEFAULT_UNPLUG_LIMITS: WaitLimits = { stuckAfterMs: 20_000, deadlineMs: 120_000 };
export const DEFAULT_POLL_INTERVAL_MS = 100;

/** What a finished plug or unplug reports. Times are on the mechanism's clock (host monotonic by default). */
export interface PlugResult {
  vm: string;
  slot: string;
  operation: MemoryOperation;
  /** The slot's new total size, as asked. */
  requestedBytes: number;
  /** What QEMU reports plugged when the wait ended: equal to requestedBytes on success. */
  pluggedBytes: number;
  /** From just before the request was sent to the moment completion was seen. */
  durationMs: number;
  seenBy: SeenBy;
  observedAtMs: number;
}

/** One slot as QEMU reports it now. */
export interface SlotObservation {
  vm: string;
  slot: string;
  deviceId: string;
  /** The guest NUMA node the slot's memory appears on. */
  node: number;
  pluggedBytes: number;
  requestedBytes: number;
  maxSizeBytes: number;
  blockSizeBytes: number;
  observedAtMs: number;
}

export interface MemoryMechanism {
  /**
   * Sets `slot`'s size to `bytes` (the absolute total, not a delta) and resolves once QEMU reports
   * the device at that size. A size below the current one shrinks the slot and gets the unplug
   * limits. Refuses (MemoryRequestError) before QMP is touched when the slot is unknown, `bytes`
   * exceeds its maximum or is not a multiple of its block size. Throws MemoryStuckError when the
   * size stops moving, WaitTimeoutError past the overall deadline.
   */
  plug(vm: MemoryTarget, slot: string, bytes: number, options?: ResizeOptions): Promise<PlugResult>;
  /** Shrinks `slot` to 0 and resolves once QEMU reports nothing plugged in it. */
  unplug(vm: MemoryTarget, slot: string, options?: ResizeOptions): Promise<PlugResult>;
  /** What QEMU reports for every slot of the VM, or for `slot` alone. */
  observe(vm: MemoryTarget, slot?: string): Promise<SlotObservation[]>;
}

/** Time for the mechanism's waits; tests inject one that jumps instead of sleeping. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early (without rejecting) when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    }),
};

/** The QEMU device id of a slot (`slot0` → `vmem-slot0`), as the argv builder names it. */
export function deviceIdOf(slot: string): string {
  return `vmem-${slot}`;
}

/** The slot of a QEMU device id (`vmem-slot0` → `slot0`), or undefined for a device baton did not name. */
export function slotOfDeviceId(deviceId: string): string | undefined {
  return deviceId.startsWith('vmem-') && deviceId.length > 5 ? deviceId.slice(5) : undefined;
}

/** The memory target of a launched machine. */
export function targetOf(machine: Machine): MemoryTarget {
  return { name: machine.spec.name, qmp: machine.qmp, slots: machine.spec.slots };
}
