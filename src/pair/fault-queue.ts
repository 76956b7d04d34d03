// The pair's queue of faults that wait for a standby: one entry per VM incarnation, taken in order once one is ready (lifecycle/queue.ts decides).
import type { FailoverTrigger } from '../failover/context.js';
import type { FaultSignal } from '../lifecycle/machine.js';
import { enqueueFault, nextQueuedFault, type QueuedFault, type VmIncarnation } from '../lifecycle/queue.js';
import type { Logger } from '../log.js';

/** The lifecycle machine's name for each detector's signal. */
export const FAULT_SIGNAL_OF: Record<FailoverTrigger['signal'], FaultSignal> = {
  GUEST_PANICKED: 'panic',
  'qemu-exit': 'qemu-exit',
  'qmp-disconnect': 'qmp-loss',
  hang: 'hang',
  request: 'request',
};

/** The detector's signal a queued fault came from (`request` for a signal no detector gives). */
function triggerSignalOf(signal: FaultSignal): FailoverTrigger['signal'] {
  const keys = Object.keys(FAULT_SIGNAL_OF) as FailoverTrigger['signal'][];
  return keys.find((key) => FAULT_SIGNAL_OF[key] === signal) ?? 'request';
}

/** The faults kept until they can be acted on; `status` shows them. Only the queue changes its list. */
export class FaultQueue {
  private faults: readonly QueuedFault[] = [];
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  /** The faults waiting, oldest first. */
  get queued(): readonly QueuedFault[] {
    return this.faults;
  }

  /** Keeps `trigger` of the incarnation with `pid` (a later signal of the same incarnation adds nothing). */
  add(trigger: FailoverTrigger, pid: number): void {
    const fault: QueuedFault = {
      vm: trigger.vm,
      pid,
      signal: FAULT_SIGNAL_OF[trigger.signal],
      detectedAtMs: trigger.detectedAtMs,
    };
    const before = this.faults;
    this.faults = enqueueFault(before, fault);
    if (this.faults !== before) this.log.warn({ ...fault }, 'fault queued until it can be acted on');
  }

  /**
   * The oldest fault to act on now, as the trigger it came from, taken off the queue; faults of
   * incarnations that no longer serve (failed over or replaced since) are dropped as done.
   */
  takeNext(facts: {
    readonly isStandbyReady: boolean;
    readonly serving: readonly VmIncarnation[];
  }): FailoverTrigger | undefined {
    const next = nextQueuedFault(this.faults, facts);
    for (const done of next.done) this.log.info({ ...done }, 'queued fault done: that VM was replaced');
    this.faults = next.rest;
    if (next.fault === undefined) return undefined;
    const { vm, signal, detectedAtMs } = next.fault;
    this.log.warn({ vm, signal }, 'acting on a queued fault now that a standby is ready');
    return { vm, signal: triggerSignalOf(signal), detectedAtMs };
  }
}
