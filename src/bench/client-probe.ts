// A client polling an app's stable endpoint: when did it first get a right answer after a fault?
import { KvClient } from '../endpoint/kv-client.js';
import { WaitTimeoutError } from '../errors.js';
import type { TrafficConnector } from '../traffic/store.js';

/** What one attempt asks: a line request and its right answer, or key n read through a real client. */
export type ProbeQuestion =
  | { request: string; expected: string }
  | { connect: TrafficConnector; key: number };

export type ProbeOptions = ProbeQuestion & {
  port: number;
  /** Checked when a right answer arrives: false while the answer could still come from the failed side. */
  isRecovered: () => boolean;
  timeoutMs: number;
  /** A new attempt starts this often, each on its own connection, so one stuck connection delays nothing. */
  intervalMs?: number;
  /** At most this many attempts in flight: a held endpoint queues them, and a few are what a real client opens. */
  maxInFlight?: number;
};

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
      try {
        const answer = await ask(options, options.port);
        const atMs = performance.now();
        lastAnswer = answer.seen;
        if (answer.isRight && options.isRecovered()) finish(() => resolve(atMs));
      } catch (error) {
        // A refused, reset or timed-out attempt is what a client sees during the outage: try again.
        lastAnswer = (error as Error).message;
      } finally {
        inFlight -= 1;
      }
    };
    const ticker = setInterval(() => void attempt(), intervalMs);
    const deadline = setTimeout(
      () =>
        finish(() =>
          reject(
            new WaitTimeoutError({
              waitedFor: `a right answer to ${describeQuestion(options)} on 127.0.0.1:${options.port}`,
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

/** One attempt on a connection of its own: was the answer the right one, and what it was. */
async function ask(question: ProbeQuestion, port: number): Promise<{ isRight: boolean; seen: string }> {
  if ('connect' in question) {
    const store = await question.connect(port, ATTEMPT_TIMEOUT_MS);
    try {
      const isRight = await store.read(question.key);
      return { isRight, seen: isRight ? 'the right value' : 'a wrong or missing value' };
    } finally {
      store.close();
    }
  }
  const client = await KvClient.connect(port, ATTEMPT_TIMEOUT_MS);
  try {
    const answer = await client.request(question.request, ATTEMPT_TIMEOUT_MS);
    return { isRight: answer === question.expected, seen: answer ?? 'connection closed' };
  } finally {
    client.close();
  }
}

function describeQuestion(question: ProbeQuestion): string {
  return 'connect' in question ? `a read of key ${question.key}` : question.request;
}
