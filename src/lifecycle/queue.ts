// Faults kept until they can be acted on (a serving VM failed while no standby was ready); pure values.
import type { FaultSignal } from './machine.js';

export interface QueuedFault {
  readonly vm: string;
  readonly signal: FaultSignal;
  /** Host monotonic time the first signal of this VM was seen (detection time is measured from it). */
  readonly detectedAtMs: number;
}

/**
 * The queue with `fault` in it: one entry per VM, the first signal kept (later ones of the same
 * VM, such as the QMP loss that follows a QEMU exit, add nothing but are not lost: the VM's
 * entry already stands for them).
 */
export function enqueueFault(queue: readonly QueuedFault[], fault: QueuedFault): readonly QueuedFault[] {
  return queue.some((queued) => queued.vm === fault.vm) ? queue : [...queue, fault];
}

/**
 * What to act on now: with a standby ready, the oldest fault of a VM that still serves (its
 * failover comes first; the others wait for the next standby). A fault of a VM that no longer
 * serves (it was failed over or replaced since) is done: it is dropped from the queue with the
 * reason, so the caller can log it.
 */
export function nextQueuedFault(
  queue: readonly QueuedFault[],
  facts: { readonly isStandbyReady: boolean; readonly servingVms: readonly string[] },
): { fault: QueuedFault | undefined; rest: readonly QueuedFault[]; done: readonly QueuedFault[] } {
  const done = queue.filter((queued) => !facts.servingVms.includes(queued.vm));
  const pending = queue.filter((queued) => facts.servingVms.includes(queued.vm));
  if (!facts.isStandbyReady || pending.length === 0) return { fault: undefined, rest: pending, done };
  const [fault, ...rest] = pending;
  return { fault, rest, done };
}

/** One line per queued fault, for `status`. */
export function describeQueue(queue: readonly QueuedFault[]): string[] {
  return queue.map((queued) => `${queued.signal} on ${queued.vm}: fails over once a standby is ready`);
}
