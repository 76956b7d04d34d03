// The operation under way: a move of an app whose grant is plugging is refused, the apps an operation moves are known until it ends.
import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../../src/errors.js';
import { Operations, type OperationsHost } from '../../../src/pair/operations.js';
import type { PairState } from '../../../src/pair/pair-state.js';
import { type FakePair, fakePair } from './fake-pair.js';

let f: FakePair;
let states: PairState[];
let granting: Set<string>;
let ended: number;

function operations(): Operations {
  const host: OperationsHost = {
    pair: f.pair as unknown as OperationsHost['pair'],
    setState: (next) => states.push(next),
    reprotect: async () => undefined,
    afterFailover: async () => undefined,
    onFault: async () => undefined,
    startAppOnActive: async () => undefined,
    releaseHeld: async () => undefined,
    isGranting: (app) => granting.has(app),
    onEnded: () => {
      ended += 1;
    },
  };
  return new Operations(host);
}

beforeEach(async () => {
  f = await fakePair();
  states = [];
  granting = new Set();
  ended = 0;
});

describe('Operations', () => {
  it('refuses to move an app whose memory grant is plugging, before anything changes', async () => {
    granting.add('kvd');
    const ops = operations();
    const refusal = await ops.moveApp('kvd', { reason: 'operator request' }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(ConflictError);
    expect((refusal as Error).message).toBe(
      'Cannot move kvd: a memory grant to it is under way; ask again once it is done',
    );
    expect(states).toEqual([]);
    expect(ops.inFlight).toBeUndefined();
    expect(f.active.calls).toEqual([]);
  });

  it('knows the app a move moves until the move has ended, then says it ended', async () => {
    const ops = operations();
    const record = ops.moveApp('kvd', { reason: 'operator request' });
    expect(ops.isMoving('kvd')).toBe(true);
    expect(ops.isMoving('cron')).toBe(false);
    expect(ops.inFlightId).toEqual(expect.any(String));
    expect((await record).result).toBe('succeeded');
    await new Promise((resolve) => setImmediate(resolve));
    expect(ops.isMoving('kvd')).toBe(false);
    expect(ops.inFlight).toBeUndefined();
    expect(states).toEqual(['failing-over', 'protected']);
    expect(ended).toBe(1);
  });
});
