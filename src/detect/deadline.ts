// Runs probes against deadlines on injected timers; never throws, and cancels by generation.
import { isBatonError } from '../errors.js';

/** The timer functions a detector uses; the owner can inject fakes (defaults: Node's). */
export interface DetectorTimers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const NODE_TIMERS: DetectorTimers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export type ProbeOutcome<T> =
  | { status: 'answered'; value: T }
  | { status: 'failed'; error: unknown }
  | { status: 'timed-out' }
  | { status: 'cancelled' };

/** True when the probe got no answer in time (our deadline, or the probe's own WaitTimeoutError). */
export function isUnanswered(outcome: ProbeOutcome<unknown>): boolean {
  return (
    outcome.status === 'timed-out' ||
    (outcome.status === 'failed' && isBatonError(outcome.error, 'WAIT_TIMEOUT'))
  );
}

/**
 * Probes under deadlines. Each run resolves with how its probe ended, or 'cancelled' when its
 * generation is over (cancelAll ran before or during it). Its own deadline means a probe that
 * ignores its timeout argument cannot stall the caller; a cancelled probe leaves no timer behind.
 */
export class ProbeDeadlines {
  private readonly timers: DetectorTimers;
  private readonly cancels = new Set<() => void>();
  private generationValue = 0;

  constructor(timers: DetectorTimers) {
    this.timers = timers;
  }

  get generation(): number {
    return this.generationValue;
  }

  run<T>(generation: number, probe: () => Promise<T>, timeoutMs: number): Promise<ProbeOutcome<T>> {
    if (generation !== this.generationValue) return Promise.resolve({ status: 'cancelled' });
    return new Promise((resolve) => {
      let isSettled = false;
      const settle = (outcome: ProbeOutcome<T>) => {
        if (isSettled) return;
        isSettled = true;
        this.timers.clearTimeout(handle);
        this.cancels.delete(cancel);
        resolve(generation === this.generationValue ? outcome : { status: 'cancelled' });
      };
      const cancel = () => settle({ status: 'cancelled' });
      const handle = this.timers.setTimeout(() => settle({ status: 'timed-out' }), timeoutMs);
      this.cancels.add(cancel);
      // A probe that throws synchronously counts as failed, like one that rejects.
      Promise.resolve()
        .then(probe)
        .then(
          (value) => settle({ status: 'answered', value }),
          (error: unknown) => settle({ status: 'failed', error }),
        );
    });
  }

  /** Ends the current generation: pending probes settle as 'cancelled' and their timers are cleared. */
  cancelAll(): void {
    this.generationValue += 1;
    for (const cancel of [...this.cancels]) cancel();
  }
}
