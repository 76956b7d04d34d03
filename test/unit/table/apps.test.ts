import { describe, expect, it } from 'vitest';
import { grantFromPool, returnToPool, startApp } from '../../../src/table/apps.js';
import { createTable } from '../../../src/table/create.js';
import { findArea } from '../../../src/table/lookup.js';
import type { ResourceTable } from '../../../src/table/types.js';
import { MiB } from '../../../src/units.js';
import { refusalOf, rowsInMiB, stateA, stateB, stateC } from './fixtures.js';

/** A table whose pool holds 16 MiB, with ordinary app kv (32 MiB) carved out of the active OS. */
function tableWithSmallPool(): ResourceTable {
  const { table } = createTable({
    budgetBytes: 256 * MiB,
    blockBytes: 2 * MiB,
    roles: { active: 'vm-a', standby: 'vm-b' },
    osAreas: [
      { vm: 'vm-a', sizeBytes: 160 * MiB },
      { vm: 'vm-b', sizeBytes: 32 * MiB },
    ],
    monitorBytes: 48 * MiB,
    osMinBytes: 32 * MiB,
  });
  return startApp(table, { app: 'kv', vm: 'vm-a', sizeBytes: 32 * MiB, hotStandby: false }).table;
}

describe('startApp', () => {
  it('takes what the OS has spare and the shortfall from the pool', () => {
    const result = startApp(stateA(), { app: 'X', vm: 'vm-a', sizeBytes: 144 * MiB, hotStandby: true });
    expect([result.fromOsBytes, result.fromPoolBytes]).toEqual([128 * MiB, 16 * MiB]);
    expect(rowsInMiB(result.table)).toEqual([
      ['os:vm-a', 32, 'vm-a', 'vm-a'],
      ['os:vm-b', 32, 'vm-b', 'vm-b'],
      ['monitor', 32, 'monitor', 'monitor'],
      ['app:X', 144, 'vm-a', 'vm-b'],
      ['pool', 16, 'monitor', 'monitor'],
    ]);
  });

  it('records the request at the app size, nothing plugged yet, and the slot', () => {
    const area = findArea(stateB(), 'app:A');
    expect(area).toEqual({
      name: 'app:A',
      kind: 'app',
      sizeBytes: 128 * MiB,
      user: 'vm-a',
      onFailure: 'vm-b',
      requestedBytes: 128 * MiB,
      pluggedBytes: 0,
      hotStandby: true,
      slot: 'slot0',
    });
  });

  it('starts an ordinary app on the standby from the pool', () => {
    const { table } = startApp(stateA(), { app: 'log', vm: 'vm-b', sizeBytes: 16 * MiB, hotStandby: false });
    expect(findArea(table, 'app:log')).toMatchObject({ user: 'vm-b', onFailure: 'monitor' });
    expect(findArea(table, 'pool')?.sizeBytes).toBe(16 * MiB);
  });

  it('refuses when the OS spare and the pool together are too small', () => {
    const error = refusalOf(() =>
      startApp(stateA(), { app: 'X', vm: 'vm-a', sizeBytes: 176 * MiB, hotStandby: true }),
    );
    expect(error.message).toBe(
      'Cannot start X on vm-a: X asked for 176 MiB, os:vm-a has 128 MiB spare above the 32 MiB minimum and the pool has 32 MiB',
    );
    expect(error.code).toBe('TABLE_REQUEST_REFUSED');
    expect(error.operation).toBe('startApp');
  });

  it('refuses app C in state C: no spare and an empty pool', () => {
    const error = refusalOf(() =>
      startApp(stateC(), { app: 'C', vm: 'vm-a', sizeBytes: 2 * MiB, hotStandby: false }),
    );
    expect(error.message).toBe(
      'Cannot start C on vm-a: C asked for 2 MiB, os:vm-a has 0 MiB spare above the 32 MiB minimum and the pool has 0 MiB',
    );
  });

  it('refuses a VM that is not in the table', () => {
    const error = refusalOf(() =>
      startApp(stateA(), { app: 'X', vm: 'vm-z', sizeBytes: 2 * MiB, hotStandby: false }),
    );
    expect(error.message).toBe('Cannot start X on vm-z: vm-z is not a VM of this table (vm-a, vm-b)');
  });

  it('refuses an app that already has an area', () => {
    const error = refusalOf(() =>
      startApp(stateB(), { app: 'A', vm: 'vm-a', sizeBytes: 2 * MiB, hotStandby: true }),
    );
    expect(error.message).toBe('Cannot start A on vm-a: it already has area app:A on vm-a');
  });

  it('refuses a size that is not a whole multiple of the block', () => {
    const error = refusalOf(() =>
      startApp(stateA(), { app: 'X', vm: 'vm-a', sizeBytes: 3 * MiB, hotStandby: false }),
    );
    expect(error.message).toBe(
      'Cannot start X on vm-a: size must be a positive whole multiple of the 2 MiB block, got 3 MiB',
    );
  });

  it('refuses a zero size', () => {
    const error = refusalOf(() =>
      startApp(stateA(), { app: 'X', vm: 'vm-a', sizeBytes: 0, hotStandby: false }),
    );
    expect(error.message).toBe(
      'Cannot start X on vm-a: size must be a positive whole multiple of the 2 MiB block, got 0 MiB',
    );
  });

  it('refuses a hot-standby app on the standby', () => {
    const error = refusalOf(() =>
      startApp(stateA(), { app: 'X', vm: 'vm-b', sizeBytes: 2 * MiB, hotStandby: true }),
    );
    expect(error.message).toBe(
      'Cannot start X on vm-b: a hot-standby app starts on the active VM (vm-a), vm-b is the standby',
    );
  });

  it('refuses a slot another app on the VM already uses', () => {
    const error = refusalOf(() =>
      startApp(stateB(), { app: 'X', vm: 'vm-a', sizeBytes: 2 * MiB, hotStandby: false, slot: 'slot0' }),
    );
    expect(error.message).toBe('Cannot start X on vm-a: slot slot0 is already used by app:A');
  });
});

describe('grantFromPool', () => {
  it('grows the app area and shrinks the pool by the same amount', () => {
    const { table } = grantFromPool(stateB(), { app: 'A', bytes: 16 * MiB });
    expect(findArea(table, 'app:A')).toMatchObject({ sizeBytes: 144 * MiB, requestedBytes: 144 * MiB });
    expect(findArea(table, 'pool')?.sizeBytes).toBe(16 * MiB);
  });

  it('refuses more than the pool holds', () => {
    const error = refusalOf(() => grantFromPool(tableWithSmallPool(), { app: 'kv', bytes: 32 * MiB }));
    expect(error.message).toBe('Cannot grant memory to kv: pool has 16 MiB, kv asked for 32 MiB');
  });

  it('refuses an app with no area', () => {
    const error = refusalOf(() => grantFromPool(stateB(), { app: 'kv', bytes: 2 * MiB }));
    expect(error.message).toBe('Cannot grant memory to kv: kv has no area in the table');
  });

  it('refuses an amount that is not a whole multiple of the block', () => {
    const error = refusalOf(() => grantFromPool(stateB(), { app: 'A', bytes: MiB }));
    expect(error.message).toBe(
      'Cannot grant memory to A: size must be a positive whole multiple of the 2 MiB block, got 1 MiB',
    );
  });
});

describe('returnToPool', () => {
  it('returns the whole area and removes its row when no amount is given', () => {
    const { table } = returnToPool(stateC(), { app: 'B' });
    expect(findArea(table, 'app:B')).toBeUndefined();
    expect(findArea(table, 'pool')?.sizeBytes).toBe(32 * MiB);
  });

  it('returns part of the area and keeps the row', () => {
    const { table } = returnToPool(stateB(), { app: 'A', bytes: 28 * MiB });
    expect(findArea(table, 'app:A')).toMatchObject({ sizeBytes: 100 * MiB, requestedBytes: 100 * MiB });
    expect(findArea(table, 'pool')?.sizeBytes).toBe(60 * MiB);
  });

  it('refuses to return more than the area holds', () => {
    const error = refusalOf(() => returnToPool(stateC(), { app: 'B', bytes: 64 * MiB }));
    expect(error.message).toBe('Cannot return memory from B: B has 32 MiB, asked to return 64 MiB');
  });

  it('refuses an app with no area', () => {
    const error = refusalOf(() => returnToPool(stateC(), { app: 'kv' }));
    expect(error.message).toBe('Cannot return memory from kv: kv has no area in the table');
  });
});
