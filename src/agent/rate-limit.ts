// A token bucket: caps how many messages a guest may send per second before we drop them.

export class TokenBucket {
  private tokens: number;
  private lastRefillMs: number;
  private readonly ratePerSecond: number;
  private readonly burst: number;
  private readonly nowMs: () => number;

  constructor(options: { ratePerSecond: number; burst: number; nowMs?: () => number }) {
    this.ratePerSecond = options.ratePerSecond;
    this.burst = options.burst;
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.tokens = options.burst;
    this.lastRefillMs = this.nowMs();
  }

  /** Takes one token; false when the bucket is empty (the caller drops the message). */
  take(): boolean {
    const now = this.nowMs();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastRefillMs) / 1000) * this.ratePerSecond);
    this.lastRefillMs = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
