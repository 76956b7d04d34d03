import { describe, expect, it } from 'vitest';
import { trafficKey } from '../../../src/traffic/store.js';

describe('traffic keys', () => {
  it('name key n the same way in every store, one key per n', () => {
    expect([trafficKey(0), trafficKey(42)]).toEqual(['traffic-0', 'traffic-42']);
    expect(new Set([1, 2, 10, 11, 12].map(trafficKey)).size).toBe(5);
  });
});
