// Faults kept until they can be acted on (a serving VM failed while no standby was ready); pure values.
import type { FaultSignal } from './machine.js';

/** One VM incarnation: its name and its QEMU's pid (a VM booted afresh under the same name is another). */
export interface VmIncarnation {
  readonly vm: string;
  readonly pid: number;
}

export interface QueuedFault extends VmIncarnation {
  readonly signal: FaultSignal;
  /** Host monotonic time the first signal of this VM was seen (detection time is measured from it). */
  readonly detectedAtMs: number;
}

const isSame = (a: VmIncarnation, b: VmIncarnation) => a.vm === b.vm && a.pid === b.pid;

/**
 * The queue with `fault` in it: one entry per VM incarnation, the first signal kept (later ones
 * of the same incarnation, such as the QMP loss that follows a QEMU exit, add nothing but are not
 * lost: its entry already stands for them).
 */
export function enqueueFault(queue: readonly QueuedFault[], fault: QueuedFault): readonly QueuedFault[] {
  return queue.some((queued) => isSame(queued, fault)) ? queue : [...queue, fault];
}

/**
 * What to act on now: with a standby ready, the oldest fault of an incarnation that still serves
 * (its failover comes first; the others wait for the next standby). A fault of an incarnation
 * that no longer serves (failed over or replaced since) is done: returned apart, for the log.
 */
export function nextQueuedFault(
  queue: readonly QueuedFault[],
  facts: { readonly isStandbyReady: boolean; readonly serving: readonly VmIncarnation[] },
): { fault: QueuedFault | undefined; rest: readonly QueuedFault[]; done: readonly QueuedFault[] } {
  const isServing = (queued: QueuedFault) => facts.serving.some((vm) => isSame(vm, queued));
  const done = queue.filter((queued) => !isServing(queued));
  const pending = queue.filter(isServing);
  if (!facts.isStandbyReady || pending.length === 0) return { fault: undefined, rest: pending, done };
  const [fault, ...rest] = pending;
  return { fault, rest, done };
}

/** One line per queued fault, for `status` (while blocked nothing acts on them: they are kept). */
export function describeQueue(queue: readonly QueuedFault[], isBlocked = false): string[] {
  const outcome = isBlocked ? 'kept while the pair is blocked' : 'fails over once a standby is ready';
  return queue.map((queued) => `${queued.signal} on ${queued.vm} (pid ${queued.pid}): ${outcome}`);
}
