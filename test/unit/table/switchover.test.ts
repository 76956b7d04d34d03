import { describe, expect, it } from 'vitest';
import { startApp } from '../../../src/table/apps.js';
import { appAreaName, findArea, moveApp, switchOver } from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';
import { rowsInMiB, stateB, stateC } from './fixtures.js';

describe('switchOver: planned, both VMs keep running', () => {
  it('moves the hot-standby app to the standby, keeps the ordinary app where it runs, swaps the roles', () => {
    const before = stateC();
    const { table, movedAreas } = switchOver(before);
    expect(movedAreas).toEqual(['app:A']);
    expect(rowsInMiB(table)).toEqual([
      ['os:vm-a', 32, 'vm-a', 'vm-a'],
      ['os:vm-b', 32, 'vm-b', 'vm-b'],
      ['monitor', 32, 'monitor', 'monitor'],
      ['app:A', 128, 'vm-b', 'vm-a'],
      ['app:B', 32, 'vm-a', 'monitor'],
      ['pool', 0, 'monitor', 'monitor'],
    ]);
    expect(table.roles).toEqual({ active: 'vm-b', standby: 'vm-a' });
    expect(table.epoch).toBe(before.epoch + 1);
    // Not observed on vm-b yet; the OS areas keep their observation (nothing rebooted).
    expect(findArea(table, appAreaName('A'))?.pluggedBytes).toBe(0);
    expect(findArea(table, 'os:vm-a')).toEqual(findArea(before, 'os:vm-a'));
  });

  it('a second switchover brings the hot-standby apps back, the roles as at first', () => {
    const twice = switchOver(switchOver(stateC()).table).table;
    expect(twice.roles).toEqual({ active: 'vm-a', standby: 'vm-b' });
    expect(rowsInMiB(twice)).toEqual(rowsInMiB(stateC()));
  });

  it('moves every hot-standby app of the active, and leaves one already moved to the standby there', () => {
    const two = startApp(stateB(), {
      app: 'C',
      vm: 'vm-a',
      sizeBytes: 32 * MiB,
      hotStandby: true,
      slot: 'slot1',
    }).table;
    expect(switchOver(two).movedAreas).toEqual(['app:A', 'app:C']);
    const cMoved = moveApp(two, { app: 'C', toVm: 'vm-b' }).table;
    const { table, movedAreas } = switchOver(cMoved);
    expect(movedAreas).toEqual(['app:A']);
    expect(findArea(table, appAreaName('C'))).toEqual(findArea(cMoved, appAreaName('C')));
    expect(findArea(table, appAreaName('C'))).toMatchObject({ user: 'vm-b', onFailure: 'vm-a' });
  });
});
