import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../src/agent/rate-limit.js';

/** A bucket on a clock the test moves. */
function bucket(ratePerSecond: number, burst: number) {
  const clock = { nowMs: 1000 };
  const tokens = new TokenBucket({ ratePerSecond, burst, nowMs: () => clock.nowMs });
  const takeMany = (count: number) =>
    Array.from({ length: count }, () => tokens.take()).filter(Boolean).length;
  return { tokens, clock, takeMany };
}

describe('the guest message token bucket', () => {
  it('starts full: a burst passes, the next message is dropped', () => {
    const { takeMany, tokens } = bucket(10, 5);
    expect(takeMany(5)).toBe(5);
    expect(tokens.take()).toBe(false);
  });

  it('refills at the rate, a fraction of a token allowing nothing', () => {
    const { takeMany, clock, tokens } = bucket(10, 5);
    takeMany(5);
    clock.nowMs += 99; // 0.99 tokens
    expect(tokens.take()).toBe(false);
    clock.nowMs += 1; // 0.01 more makes 1.00 (the 0.99 was kept)
    expect(tokens.take()).toBe(true);
    clock.nowMs += 300;
    expect(takeMany(10)).toBe(3);
  });

  it('never holds more than the burst, however long it was idle', () => {
    const { takeMany, clock } = bucket(100, 4);
    clock.nowMs += 3_600_000;
    expect(takeMany(1000)).toBe(4);
  });

  it('a flood is held to the rate over time', () => {
    const { takeMany, clock } = bucket(50, 10);
    let passed = 0;
    for (let step = 0; step < 100; step += 1) {
      passed += takeMany(100);
      clock.nowMs += 10; // 1 s in all
    }
    expect(passed).toBe(10 + 50 - 1); // the burst, then 50/s, the last 10 ms not yet taken
  });

  it('a zero rate passes the burst and nothing after', () => {
    const { takeMany, clock } = bucket(0, 2);
    clock.nowMs += 1e9;
    expect(takeMany(10)).toBe(2);
  });
});
