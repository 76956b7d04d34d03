import { describe, expect, it } from 'vitest';
import { startApp } from '../../../src/table/apps.js';
import { failOver } from '../../../src/table/failover.js';
import { checkInvariants } from '../../../src/table/invariants.js';
import { moveApp } from '../../../src/table/move.js';
import { MiB } from '../../../src/units.js';
import { rowsInMiB, stateA, stateB, stateC } from './fixtures.js';

describe('seed figure 4: the resource table while apps start', () => {
  it('state A: nothing running, the active OS holds 160 MiB and 32 MiB is unused', () => {
    const table = stateA();
    expect(rowsInMiB(table)).toEqual([
      ['os:vm-a', 160, 'vm-a', 'vm-a'],
      ['os:vm-b', 32, 'vm-b', 'vm-b'],
      ['monitor', 32, 'monitor', 'monitor'],
      ['pool', 32, 'monitor', 'monitor'],
    ]);
    expect(checkInvariants(table)).toEqual([]);
  });

  it('state B: hot-standby app A takes 128 MiB carved out of the active OS, which keeps 32 MiB', () => {
    const result = startApp(stateA(), {
      app: 'A',
      vm: 'vm-a',
      sizeBytes: 128 * MiB,
      hotStandby: true,
      slot: 'slot0',
    });
    expect(rowsInMiB(result.table)).toEqual([
      ['os:vm-a', 32, 'vm-a', 'vm-a'],
      ['os:vm-b', 32, 'vm-b', 'vm-b'],
      ['monitor', 32, 'monitor', 'monitor'],
      ['app:A', 128, 'vm-a', 'vm-b'],
      ['pool', 32, 'monitor', 'monitor'],
    ]);
    expect([result.fromOsBytes, result.fromPoolBytes]).toEqual([128 * MiB, 0]);
  });

  it('state C: ordinary app B gets the whole unused 32 MiB from the monitor because the OS has none spare', () => {
    const result = startApp(stateB(), {
      app: 'B',
      vm: 'vm-a',
      sizeBytes: 32 * MiB,
      hotStandby: false,
      slot: 'slot1',
    });
    expect(rowsInMiB(result.table)).toEqual([
      ['os:vm-a', 32, 'vm-a', 'vm-a'],
      ['os:vm-b', 32, 'vm-b', 'vm-b'],
      ['monitor', 32, 'monitor', 'monitor'],
      ['app:A', 128, 'vm-a', 'vm-b'],
      ['app:B', 32, 'vm-a', 'monitor'],
      ['pool', 0, 'monitor', 'monitor'],
    ]);
    expect([result.fromOsBytes, result.fromPoolBytes]).toEqual([0, 32 * MiB]);
  });
});

describe('seed figure 5: the active VM fails in state C', () => {
  it('hands app A to the standby, returns app B to the pool and swaps the roles', () => {
    const { table } = failOver(stateC(), { failedVm: 'vm-a' });
    expect(rowsInMiB(table)).toEqual([
      ['os:vm-a', 32, 'vm-a', 'vm-a'],
      ['os:vm-b', 32, 'vm-b', 'vm-b'],
      ['monitor', 32, 'monitor', 'monitor'],
      ['app:A', 128, 'vm-b', 'vm-a'],
      ['pool', 32, 'monitor', 'monitor'],
    ]);
    expect(table.roles).toEqual({ active: 'vm-b', standby: 'vm-a' });
  });
});

describe('seed figure 6: app A alone fails in state C', () => {
  it('moves app A to the standby and leaves app B and the roles as they were', () => {
    const { table } = moveApp(stateC(), { app: 'A', toVm: 'vm-b' });
    expect(rowsInMiB(table)).toEqual([
      ['os:vm-a', 32, 'vm-a', 'vm-a'],
      ['os:vm-b', 32, 'vm-b', 'vm-b'],
      ['monitor', 32, 'monitor', 'monitor'],
      ['app:A', 128, 'vm-b', 'vm-a'],
      ['app:B', 32, 'vm-a', 'monitor'],
      ['pool', 0, 'monitor', 'monitor'],
    ]);
    expect(table.roles).toEqual({ active: 'vm-a', standby: 'vm-b' });
  });
});
