import { describe, expect, it } from 'vitest';
import { pickMedianItem, quantile, ratioOf, summarize } from '../../../src/bench/stats.js';

describe('summarize', () => {
  it('gives the middle value of an odd count and the spread', () => {
    expect(summarize([1400, 1000, 1200])).toEqual({ median: 1200, min: 1000, max: 1400, runs: 3 });
  });

  it('gives the mean of the two middle values of an even count', () => {
    expect(summarize([4, 1, 3, 2]).median).toBe(2.5);
  });

  it('rounds to a tenth', () => {
    expect(summarize([1.234, 5.678])).toEqual({ median: 3.5, min: 1.2, max: 5.7, runs: 2 });
  });

  it('summarises no runs as zeros with runs 0', () => {
    expect(summarize([])).toEqual({ median: 0, min: 0, max: 0, runs: 0 });
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    summarize(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('quantile', () => {
  it('takes the nearest rank', () => {
    const values = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(quantile(values, 0.99)).toBe(198);
    expect(quantile(values, 0.5)).toBe(100);
    expect(quantile(values, 1)).toBe(200);
  });
});

describe('ratioOf', () => {
  it('divides with two decimals', () => {
    expect(ratioOf(1, 3)).toBe(0.33);
  });

  it('has no ratio against zero', () => {
    expect(ratioOf(1, 0)).toBeUndefined();
  });
});

describe('pickMedianItem', () => {
  it('picks the item with the median value, the lower middle one for an even count', () => {
    const runs = [{ totalMs: 30 }, { totalMs: 10 }, { totalMs: 20 }];
    expect(pickMedianItem(runs, (r) => r.totalMs)).toBe(runs[2]);
    expect(pickMedianItem([...runs, { totalMs: 40 }], (r) => r.totalMs)).toBe(runs[2]);
    expect(pickMedianItem([], (r: { totalMs: number }) => r.totalMs)).toBeUndefined();
  });
});
