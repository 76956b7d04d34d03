import { describe, expect, it } from 'vitest';
import { failOver } from '../../../src/table/failover.js';
import { assertInvariants } from '../../../src/table/invariants.js';
import { findArea } from '../../../src/table/lookup.js';
import { moveApp } from '../../../src/table/move.js';
import { recordObserved } from '../../../src/table/observe.js';
import { MiB } from '../../../src/units.js';
import { refusalOf, rowsInMiB, stateA, stateC } from './fixtures.js';

describe('failOver', () => {
  it('makes the old standby the active and the failed VM the next standby', () => {
    expect(failOver(stateC(), { failedVm: 'vm-a' }).table.roles).toEqual({ active: 'vm-b', standby: 'vm-a' });
  });

  it('reports which areas moved and which returned to the pool', () => {
    const result = failOver(stateC(), { failedVm: 'vm-a' });
    expect([result.movedAreas, result.returnedAreas, result.osReturnedBytes]).toEqual([
      ['app:A'],
      ['app:B'],
      0,
    ]);
  });

  it('shrinks the failed VM’s OS area to the minimum OS size and returns the rest to the pool', () => {
    const result = failOver(stateA(), { failedVm: 'vm-a' });
    expect(result.osReturnedBytes).toBe(128 * MiB);
    expect(rowsInMiB(result.table)).toEqual([
      ['os:vm-a', 32, 'vm-a', 'vm-a'],
      ['os:vm-b', 32, 'vm-b', 'vm-b'],
      ['monitor', 32, 'monitor', 'monitor'],
      ['pool', 160, 'monitor', 'monitor'],
    ]);
  });

  it('keeps a hot-standby app already on the standby there, now falling back to the failed VM', () => {
    const moved = moveApp(stateC(), { app: 'A', toVm: 'vm-b' }).table;
    const result = failOver(moved, { failedVm: 'vm-a' });
    expect(findArea(result.table, 'app:A')).toMatchObject({ user: 'vm-b', onFailure: 'vm-a' });
    expect(result.movedAreas).toEqual([]);
    expect(result.returnedAreas).toEqual(['app:B']);
  });

  it('forgets what was observed plugged on the failed VM', () => {
    const observed = recordObserved(stateC(), {
      area: 'app:A',
      pluggedBytes: 128 * MiB,
      atMs: 1000,
      by: 'qmp',
    }).table;
    const area = findArea(failOver(observed, { failedVm: 'vm-a' }).table, 'app:A');
    expect(area?.pluggedBytes).toBe(0);
    expect(area).not.toHaveProperty('observedAtMs');
  });

  it('survives a second fault: app A goes back to the rebooted VM', () => {
    const once = failOver(stateC(), { failedVm: 'vm-a' }).table;
    const twice = failOver(once, { failedVm: 'vm-b' }).table;
    expect(twice.roles).toEqual({ active: 'vm-a', standby: 'vm-b' });
    expect(rowsInMiB(twice)).toEqual([
      ['os:vm-a', 32, 'vm-a', 'vm-a'],
      ['os:vm-b', 32, 'vm-b', 'vm-b'],
      ['monitor', 32, 'monitor', 'monitor'],
      ['app:A', 128, 'vm-a', 'vm-b'],
      ['pool', 32, 'monitor', 'monitor'],
    ]);
  });

  it('refuses to fail over from a standby that holds no app', () => {
    const error = refusalOf(() => failOver(stateC(), { failedVm: 'vm-b' }));
    expect(error.message).toBe(
      'Cannot fail over from vm-b: it is the standby and holds no app, so it has nothing to hand over',
    );
  });

  it('hands an app moved alone to the standby back to the active when the standby fails', () => {
    const moved = moveApp(stateC(), { app: 'A', toVm: 'vm-b' }).table;
    const result = failOver(moved, { failedVm: 'vm-b' });
    expect(result.movedAreas).toEqual(['app:A']);
    expect(result.returnedAreas).toEqual([]);
    expect(result.table.roles).toEqual({ active: 'vm-a', standby: 'vm-b' });
    expect(rowsInMiB(result.table)).toEqual([
      ['os:vm-a', 32, 'vm-a', 'vm-a'],
      ['os:vm-b', 32, 'vm-b', 'vm-b'],
      ['monitor', 32, 'monitor', 'monitor'],
      ['app:A', 128, 'vm-a', 'vm-b'],
      ['app:B', 32, 'vm-a', 'monitor'],
      ['pool', 0, 'monitor', 'monitor'],
    ]);
    expect(() => assertInvariants(result.table)).not.toThrow();
  });

  it('refuses a VM that is not in the table', () => {
    const error = refusalOf(() => failOver(stateC(), { failedVm: 'vm-z' }));
    expect(error.message).toBe('Cannot fail over from vm-z: vm-z is not a VM of this table (vm-a, vm-b)');
  });
});
