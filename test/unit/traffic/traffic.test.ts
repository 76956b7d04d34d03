import { describe, expect, it } from 'vitest';
import type { TrafficConnector, TrafficStore } from '../../../src/traffic/store.js';
import { readBack, Traffic } from '../../../src/traffic/traffic.js';

/** An in-memory store whose connections fail on the writes and reads the test names. */
function fakeStore(options: { failWrites?: Set<number>; refuseWrites?: Set<number>; lost?: Set<number> }) {
  const data = new Map<number, number>();
  let opened = 0;
  const connect: TrafficConnector = async () => {
    opened += 1;
    let isClosed = false;
    const store: TrafficStore = {
      write: async (n) => {
        if (isClosed) throw new Error('closed');
        if (options.failWrites?.delete(n)) throw new Error('connection reset');
        if (options.refuseWrites?.has(n)) return false;
        if (!options.lost?.has(n)) data.set(n, n);
        return true;
      },
      read: async (n) => data.get(n) === n,
      close: () => {
        isClosed = true;
      },
    };
    return store;
  };
  return { connect, data, opened: () => opened };
}

describe('Traffic', () => {
  it('counts only acknowledged writes and reconnects after a failed one', async () => {
    const fake = fakeStore({ failWrites: new Set([3]), refuseWrites: new Set([5]) });
    const traffic = new Traffic(fake.connect, 1, 0);
    await expect.poll(() => traffic.acknowledged.length, { timeout: 5000 }).toBeGreaterThanOrEqual(8);
    await traffic.stop();
    expect(traffic.acknowledged).not.toContain(3);
    expect(traffic.acknowledged).not.toContain(5);
    expect(traffic.unanswered).toBeGreaterThanOrEqual(2);
    expect(traffic.connections).toBe(fake.opened());
    expect(traffic.connections).toBeGreaterThanOrEqual(3);
  });

  it('reads back every acknowledged key and reports a lost one', async () => {
    const fake = fakeStore({ lost: new Set([2]) });
    const traffic = new Traffic(fake.connect, 1, 0);
    await expect.poll(() => traffic.acknowledged.length, { timeout: 5000 }).toBeGreaterThanOrEqual(5);
    await traffic.stop();
    const readable = await readBack(fake.connect, 1, traffic.acknowledged, 5000);
    expect(readable).toBe(traffic.acknowledged.length - 1);
  });
});
