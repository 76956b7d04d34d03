// The demo's client traffic: one connection through an app's stable endpoint writing numbered keys,
// reconnecting whenever the connection closes, and counting only the writes the app acknowledged.
import { KvClient } from '../endpoint/kv-client.js';

const REQUEST_TIMEOUT_MS = 5000;
const RETRY_PAUSE_MS = 200;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Traffic {
  /** The numbers n of every `SET traffic-<n> <n>` answered OK, in order. */
  readonly acknowledged: number[] = [];
  /** Requests that got no OK (closed connection, timeout, error answer): never counted. */
  unanswered = 0;
  /** Connections opened (the first one and every reconnect). */
  connections = 0;
  private next = 0;
  private isStopping = false;
  private readonly port: number;
  private readonly pauseMs: number;
  private readonly done: Promise<void>;

  /** Starts writing at once, pausing `pauseMs` after each acknowledged write. */
  constructor(port: number, pauseMs: number) {
    this.port = port;
    this.pauseMs = pauseMs;
    this.done = this.run();
  }

  /** Stops after the request in flight (bounded by its timeout) and closes the connection. */
  async stop(): Promise<void> {
    this.isStopping = true;
    await this.done;
  }

  private async run(): Promise<void> {
    let client: KvClient | undefined;
    while (!this.isStopping) {
      try {
        if (client === undefined) {
          client = await KvClient.connect(this.port, REQUEST_TIMEOUT_MS);
          this.connections += 1;
        }
        const n = this.next;
        this.next += 1;
        const answer = await client.request(`SET traffic-${n} ${n}`, REQUEST_TIMEOUT_MS);
        if (answer === 'OK') {
          this.acknowledged.push(n);
          await sleep(this.pauseMs);
          continue;
        }
        this.unanswered += 1;
      } catch {
        this.unanswered += 1;
      }
      // A closed, failed or timed-out connection cannot be trusted to answer in order: start a new one.
      client?.close();
      client = undefined;
      await sleep(RETRY_PAUSE_MS);
    }
    client?.close();
  }
}

/** Reads every acknowledged key back through the endpoint; returns how many hold their value. */
export async function readBack(port: number, keys: readonly number[], deadlineMs: number): Promise<number> {
  const startedAtMs = performance.now();
  let client: KvClient | undefined;
  let readable = 0;
  try {
    for (const n of keys) {
      for (;;) {
        if (performance.now() - startedAtMs > deadlineMs) return readable;
        try {
          client ??= await KvClient.connect(port, REQUEST_TIMEOUT_MS);
          const answer = await client.request(`GET traffic-${n}`, REQUEST_TIMEOUT_MS);
          if (answer === undefined) throw new Error('connection closed');
          if (answer === `VALUE ${n}`) readable += 1;
          break;
        } catch {
          client?.close();
          client = undefined;
          await sleep(RETRY_PAUSE_MS);
        }
      }
    }
    return readable;
  } finally {
    client?.close();
  }
}
