import { describe, expect, it } from 'vitest';
import { startApp } from '../../../src/table/apps.js';
import { findArea } from '../../../src/table/lookup.js';
import { moveApp } from '../../../src/table/move.js';
import { recordObserved } from '../../../src/table/observe.js';
import { MiB } from '../../../src/units.js';
import { refusalOf, stateA, stateB, stateC } from './fixtures.js';

describe('moveApp', () => {
  it('keeps the size and slot of the moved area, which now falls back to the VM it left', () => {
    const { table } = moveApp(stateC(), { app: 'A', toVm: 'vm-b' });
    expect(findArea(table, 'app:A')).toMatchObject({
      sizeBytes: 128 * MiB,
      requestedBytes: 128 * MiB,
      slot: 'slot0',
      user: 'vm-b',
      onFailure: 'vm-a',
      hotStandby: true,
    });
  });

  it('forgets what was observed plugged on the old VM', () => {
    const observed = recordObserved(stateC(), {
      area: 'app:A',
      pluggedBytes: 128 * MiB,
      atMs: 1000,
      by: 'qmp',
    }).table;
    const area = findArea(moveApp(observed, { app: 'A', toVm: 'vm-b' }).table, 'app:A');
    expect(area?.pluggedBytes).toBe(0);
    expect(area).not.toHaveProperty('observedAtMs');
    expect(area).not.toHaveProperty('observedBy');
  });

  it('moves a hot-standby app back from the standby to the active', () => {
    const onStandby = moveApp(stateC(), { app: 'A', toVm: 'vm-b' }).table;
    const { table } = moveApp(onStandby, { app: 'A', toVm: 'vm-a' });
    expect(findArea(table, 'app:A')).toMatchObject({ user: 'vm-a', onFailure: 'vm-b' });
  });

  it('refuses to move an ordinary app to the standby', () => {
    const error = refusalOf(() => moveApp(stateC(), { app: 'B', toVm: 'vm-b' }));
    expect(error.message).toBe(
      'Cannot move B to vm-b: B is not a hot-standby app, only those move to the standby',
    );
  });

  it('refuses to move an app to the VM it is already on', () => {
    const error = refusalOf(() => moveApp(stateC(), { app: 'A', toVm: 'vm-a' }));
    expect(error.message).toBe('Cannot move A to vm-a: A is already on vm-a');
  });

  it('refuses a VM that is not in the table', () => {
    const error = refusalOf(() => moveApp(stateC(), { app: 'A', toVm: 'vm-z' }));
    expect(error.message).toBe('Cannot move A to vm-z: vm-z is not a VM of this table (vm-a, vm-b)');
  });

  it('refuses an app with no area', () => {
    const error = refusalOf(() => moveApp(stateA(), { app: 'A', toVm: 'vm-b' }));
    expect(error.message).toBe('Cannot move A to vm-b: A has no area in the table');
  });

  it('refuses when the target VM already uses the slot', () => {
    const busy = startApp(stateB(), {
      app: 'C',
      vm: 'vm-b',
      sizeBytes: 2 * MiB,
      hotStandby: false,
      slot: 'slot0',
    }).table;
    const error = refusalOf(() => moveApp(busy, { app: 'A', toVm: 'vm-b' }));
    expect(error.message).toBe('Cannot move A to vm-b: slot slot0 on vm-b is already used by app:C');
  });
});
