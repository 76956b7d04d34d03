// What client traffic needs from a protected app: write numbered keys, read them back, on one connection.

/** One client connection to an app through its stable endpoint. */
export interface TrafficStore {
  /** Writes key n with value n; true only when the app acknowledged the write. */
  write(n: number): Promise<boolean>;
  /** True when key n holds the value n. Throws when the connection is unusable. */
  read(n: number): Promise<boolean>;
  close(): void;
}

/** Opens one connection to 127.0.0.1:`port`; rejects when it cannot within `timeoutMs`. */
export type TrafficConnector = (port: number, timeoutMs: number) => Promise<TrafficStore>;

/** The key every client writes for n: the same name in every store. */
export function trafficKey(n: number): string {
  return `traffic-${n}`;
}
