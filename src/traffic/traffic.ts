// Client traffic through an app's stable endpoint: one connection writing numbered keys, reconnecting
// whenever it fails, and counting only the writes the app acknowledged; then reading them all back.
import type { TrafficConnector, TrafficStore } from './store.js';

const REQUEST_TIMEOUT_MS = 5000;
const RETRY_PAUSE_MS = 200;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Traffic {
  /** The numbers n of every write of key `traffic-<n>` the app acknowledged, in order. */
  readonly acknowledged: number[] = [];
  /** Requests that got no acknowledgement (closed connection, timeout, error answer): never counted. */
  unanswered = 0;
  /** Connections opened (the first one and every reconnect). */
  connections = 0;
  private next = 0;
  private isStopping = false;
  private readonly done: Promise<void>;

  /** Starts writing at once, pausing `pauseMs` after each acknowledged write. */
  constructor(
    private readonly connectStore: TrafficConnector,
    private readonly port: number,
    private readonly pauseMs: number,
  ) {
    this.done = this.run();
  }

  /** Stops after the request in flight (bounded by its timeout) and closes the connection. */
  async stop(): Promise<void> {
    this.isStopping = true;
    await this.done;
  }

  private async run(): Promise<void> {
    let store: TrafficStore | undefined;
    while (!this.isStopping) {
      try {
        if (store === undefined) {
          store = await this.connectStore(this.port, REQUEST_TIMEOUT_MS);
          this.connections += 1;
        }
        const n = this.next;
        this.next += 1;
        if (await store.write(n)) {
          this.acknowledged.push(n);
          await sleep(this.pauseMs);
          continue;
        }
        this.unanswered += 1;
      } catch {
        this.unanswered += 1;
      }
      // A closed, failed or timed-out connection cannot be trusted to answer in order: start a new one.
      store?.close();
      store = undefined;
      await sleep(RETRY_PAUSE_MS);
    }
    store?.close();
  }
}

/** Reads every acknowledged key back through the endpoint; returns how many hold their value. */
export async function readBack(
  connectStore: TrafficConnector,
  port: number,
  keys: readonly number[],
  deadlineMs: number,
): Promise<number> {
  const startedAtMs = performance.now();
  let store: TrafficStore | undefined;
  let readable = 0;
  try {
    for (const n of keys) {
      for (;;) {
        if (performance.now() - startedAtMs > deadlineMs) return readable;
        try {
          store ??= await connectStore(port, REQUEST_TIMEOUT_MS);
          if (await store.read(n)) readable += 1;
          break;
        } catch {
          store?.close();
          store = undefined;
          await sleep(RETRY_PAUSE_MS);
        }
      }
    }
    return readable;
  } finally {
    store?.close();
  }
}
