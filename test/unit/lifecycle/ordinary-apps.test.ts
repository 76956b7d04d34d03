import { describe, expect, it } from 'vitest';
import { planOrdinaryRestarts } from '../../../src/lifecycle/ordinary-apps.js';

const MiB = 2 ** 20;
const kvd = { name: 'kvd', hotStandby: true, sizeBytes: 128 * MiB, isPlaced: true };
const cache = { name: 'cache', hotStandby: false, sizeBytes: 32 * MiB, isPlaced: false };
const logs = { name: 'logs', hotStandby: false, sizeBytes: 64 * MiB, isPlaced: false };
const block = 2 * MiB;

describe('ordinary apps after a whole-VM failover', () => {
  it('starts an ordinary app that runs nowhere when the pool can grant its size', () => {
    expect(planOrdinaryRestarts([kvd, cache], { poolBytes: 384 * MiB, blockBytes: block })).toEqual([
      { app: 'cache', action: 'start' },
    ]);
  });

  it('leaves hot-standby apps and placed apps alone', () => {
    expect(
      planOrdinaryRestarts([kvd, { ...cache, isPlaced: true }], { poolBytes: 384 * MiB, blockBytes: block }),
    ).toEqual([]);
  });

  it('makes an app wait, with the numbers, when the pool is too small', () => {
    expect(planOrdinaryRestarts([cache], { poolBytes: 16 * MiB, blockBytes: block })).toEqual([
      { app: 'cache', action: 'wait', reason: 'pool has 16 MiB, needs 32 MiB' },
    ]);
  });

  it('counts what earlier apps take from the pool, in config order', () => {
    expect(planOrdinaryRestarts([cache, logs], { poolBytes: 64 * MiB, blockBytes: block })).toEqual([
      { app: 'cache', action: 'start' },
      { app: 'logs', action: 'wait', reason: 'pool has 32 MiB, needs 64 MiB' },
    ]);
  });

  it('rounds an app size up to whole blocks', () => {
    const odd = { ...cache, sizeBytes: 31 * MiB };
    expect(planOrdinaryRestarts([odd], { poolBytes: 31 * MiB, blockBytes: block })).toEqual([
      { app: 'cache', action: 'wait', reason: 'pool has 31 MiB, needs 32 MiB' },
    ]);
  });
});
