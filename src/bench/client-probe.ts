// A client polling an app's stable endpoint: when did it first get a right answer after a fault?
import { KvClient } from '../endpoint/kv-client.js';
import { WaitTimeoutError } from '../errors.js';

export interface ProbeOptions {
  port: number;
  /** The request line and the answer that counts as a success (e.g. `GET k` → the value written before). */
  request: string;
  expected: string;
  /** Checked when a right answer arrives: false while the answer could still come from the failed side. */
  isRecovered: () => boolean;
  timeoutMs: number;
  /** A new attempt starts this often, each on its own connection, so one stuck connection delays nothing. */
  intervalMs?: number;
  /** At most this many attempts in flight: a held endpoint queues them, and a few are what a real client opens. */
  maxInFlight?: number;
}

const ATTEMPT_TIMEOUT_MS = 5000;

/** Resolves with the host monotonic time (performance.now()) of the first right answer once recovered. */
export function waitForFirstAnswer(options: ProbeOptions): Promise<number> {
  const intervalMs = options.intervalMs ?? 20;
  const maxInFlight = options.maxInFlight ?? 3;
  return new Promise((resolve, reject) => {
    let inFlight = 0;
    let attempts = 0;
    let lastAnswer = 'nothing yet';
    let isDone = false;
    const finish = (outcome: () => void) => {
      if (isDone) return;
      isDone = true;
      clearInterval(ticker);
      clearTimeout(deadline);
      outcome();
    };
    const attempt = async () => {
      if (isDone || inFlight >= maxInFlight) return;
      inFlight += 1;
      attempts += 1;
      let client: KvClient | undefined;
      try {
        client = await KvClient.connect(options.port, ATTEMPT_TIMEOUT_MS);
        const answer = await client.request(options.request, ATTEMPT_TIMEOUT_MS);
        const atMs = performance.now();
        lastAnswer = answer ?? 'connection closed';
        if (answer === options.expected && options.isRecovered()) finish(() => resolve(atMs));
      } catch (error) {
        // A refused, reset or timed-out attempt is what a client sees during the outage: try again.
        lastAnswer = (error as Error).message;
      } finally {
        client?.close();
        inFlight -= 1;
      }
    };
    const ticker = setInterval(() => void attempt(), intervalMs);
    const deadline = setTimeout(
      () =>
        finish(() =>
          reject(
            new WaitTimeoutError({
              waitedFor: `a right answer to ${options.request} on 127.0.0.1:${options.port}`,
              timeoutMs: options.timeoutMs,
              lastSeen: `${attempts} attempts; last: ${lastAnswer}`,
            }),
          ),
        ),
      options.timeoutMs,
    );
    void attempt();
  });
}
