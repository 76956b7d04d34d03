import { afterEach, describe, expect, it } from 'vitest';
import { connectKvd } from '../../../src/traffic/kvd.js';
import type { TrafficStore } from '../../../src/traffic/store.js';
import { kvdAnswer, startLinePeer } from '../../fakes/line-peer.js';

const stores: TrafficStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

async function storeOn(answer: Parameters<typeof startLinePeer>[0]) {
  const peer = await startLinePeer(answer);
  const store = await connectKvd(peer.port, 500);
  stores.push(store);
  return { peer, store };
}

describe('traffic to kvd', () => {
  it('writes traffic-<n> and reads it back by value', async () => {
    const { store, peer } = await storeOn(kvdAnswer());
    expect(await store.write(7)).toBe(true);
    expect(await store.read(7)).toBe(true);
    expect(await store.read(8)).toBe(false);
    expect(peer.received).toEqual(['SET traffic-7 7', 'GET traffic-7', 'GET traffic-8']);
  });

  it('counts a write acknowledged only by OK', async () => {
    const { store } = await storeOn(() => 'ERR out of memory');
    expect(await store.write(1)).toBe(false);
  });

  it('reads a different value as not there', async () => {
    const { store } = await storeOn(() => 'VALUE 70');
    expect(await store.read(7)).toBe(false);
  });

  it('a write on a connection kvd closed is unacknowledged; a read on it throws at once', async () => {
    const { store } = await storeOn((_line, socket) => void socket.destroy());
    expect(await store.write(1)).toBe(false);
    await expect(store.read(1)).rejects.toThrow('kvd closed the connection');
  });

  it('a request kvd never answers times out within the connector’s timeout', async () => {
    const { store } = await storeOn(() => undefined);
    await expect(store.write(1)).rejects.toMatchObject({ code: 'WAIT_TIMEOUT' });
  });
});
