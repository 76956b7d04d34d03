import { describe, expect, it } from 'vitest';
import { startApp } from '../../../src/table/apps.js';
import { findArea } from '../../../src/table/lookup.js';
import { moveApp } from '../../../src/table/move.js';
import { compareWithQemu, recordObserved } from '../../../src/table/observe.js';
import { MiB } from '../../../src/units.js';
import { refusalOf, stateB, stateC } from './fixtures.js';

const settledC = [
  { slot: 'slot0', pluggedBytes: 128 * MiB },
  { slot: 'slot1', pluggedBytes: 32 * MiB },
];

describe('recordObserved', () => {
  it('records the plugged size, when and by whom', () => {
    const { table } = recordObserved(stateC(), {
      area: 'app:A',
      pluggedBytes: 64 * MiB,
      atMs: 1500,
      by: 'qmp',
    });
    expect(findArea(table, 'app:A')).toMatchObject({
      sizeBytes: 128 * MiB,
      requestedBytes: 128 * MiB,
      pluggedBytes: 64 * MiB,
      observedAtMs: 1500,
      observedBy: 'qmp',
    });
  });

  it('bumps the epoch because the table value changed', () => {
    const before = stateC();
    const { table } = recordObserved(before, { area: 'app:A', pluggedBytes: 0, atMs: 1, by: 'agent' });
    expect(table.epoch).toBe(before.epoch + 1);
  });

  it('accepts a newer observation over an older one', () => {
    const first = recordObserved(stateC(), { area: 'app:A', pluggedBytes: 64 * MiB, atMs: 1000, by: 'qmp' });
    const { table } = recordObserved(first.table, {
      area: 'app:A',
      pluggedBytes: 128 * MiB,
      atMs: 2000,
      by: 'agent',
    });
    expect(findArea(table, 'app:A')).toMatchObject({ pluggedBytes: 128 * MiB, observedAtMs: 2000 });
  });

  it('refuses an observation older than the one recorded', () => {
    const newer = recordObserved(stateC(), { area: 'app:A', pluggedBytes: 128 * MiB, atMs: 2000, by: 'qmp' });
    const error = refusalOf(() =>
      recordObserved(newer.table, { area: 'app:A', pluggedBytes: 64 * MiB, atMs: 1000, by: 'qmp' }),
    );
    expect(error.message).toBe(
      'Cannot record an observation of app:A: it was made at 1000 ms, before the one recorded at 2000 ms',
    );
  });

  it('refuses an area that is not in the table', () => {
    const error = refusalOf(() =>
      recordObserved(stateC(), { area: 'app:Z', pluggedBytes: 0, atMs: 1, by: 'qmp' }),
    );
    expect(error.message).toBe('Cannot record an observation of app:Z: no such area in the table');
  });

  it('refuses a negative plugged size', () => {
    const error = refusalOf(() =>
      recordObserved(stateC(), { area: 'app:A', pluggedBytes: -MiB, atMs: 1, by: 'qmp' }),
    );
    expect(error.message).toBe(
      'Cannot record an observation of app:A: plugged size must be a non-negative whole number of bytes, got -1048576',
    );
  });

  it('refuses an observation time that is not a finite number', () => {
    const error = refusalOf(() =>
      recordObserved(stateC(), { area: 'app:A', pluggedBytes: 0, atMs: Number.NaN, by: 'qmp' }),
    );
    expect(error.message).toBe(
      'Cannot record an observation of app:A: observation time must be a finite number of ms, got NaN',
    );
  });
});

describe('compareWithQemu', () => {
  it('reports no drift when every app area matches its plugged device', () => {
    expect(compareWithQemu(stateC(), 'vm-a', settledC)).toEqual([]);
  });

  it('reports an area whose device has a different plugged size', () => {
    const devices = [
      { slot: 'slot0', pluggedBytes: 96 * MiB },
      { slot: 'slot1', pluggedBytes: 32 * MiB },
    ];
    expect(compareWithQemu(stateC(), 'vm-a', devices)).toEqual([
      {
        kind: 'size-mismatch',
        vm: 'vm-a',
        area: 'app:A',
        slot: 'slot0',
        expectedBytes: 128 * MiB,
        reportedBytes: 96 * MiB,
        message: 'app:A on vm-a: the table expects 128 MiB in slot0, QEMU reports 96 MiB plugged',
      },
    ]);
  });

  it('reports an area whose slot QEMU has no device for', () => {
    const drifts = compareWithQemu(stateC(), 'vm-a', [{ slot: 'slot0', pluggedBytes: 128 * MiB }]);
    expect(drifts.map((drift) => [drift.kind, drift.message])).toEqual([
      ['missing-device', 'app:B on vm-a: the table expects 32 MiB in slot1, QEMU has no device slot1'],
    ]);
  });

  it('reports a device with memory plugged that no area claims', () => {
    const drifts = compareWithQemu(stateC(), 'vm-b', [{ slot: 'slot0', pluggedBytes: 64 * MiB }]);
    expect(drifts).toEqual([
      {
        kind: 'unclaimed-device',
        vm: 'vm-b',
        slot: 'slot0',
        expectedBytes: 0,
        reportedBytes: 64 * MiB,
        message: 'slot0 on vm-b: QEMU reports 64 MiB plugged, no area of the table claims it',
      },
    ]);
  });

  it('ignores empty mirror devices no area claims', () => {
    expect(compareWithQemu(stateC(), 'vm-b', [{ slot: 'slot0', pluggedBytes: 0 }])).toEqual([]);
  });

  it('reports an app area that names no slot to check against', () => {
    const table = startApp(stateB(), { app: 'kv', vm: 'vm-a', sizeBytes: 32 * MiB, hotStandby: false }).table;
    const drifts = compareWithQemu(table, 'vm-a', [{ slot: 'slot0', pluggedBytes: 128 * MiB }]);
    expect(drifts.map((drift) => [drift.kind, drift.message])).toEqual([
      ['no-slot', 'app:kv on vm-a: the table expects 32 MiB but names no slot to check it against'],
    ]);
  });

  it('compares the areas of the VM that holds them after a move', () => {
    const moved = moveApp(stateC(), { app: 'A', toVm: 'vm-b' }).table;
    expect(compareWithQemu(moved, 'vm-b', [{ slot: 'slot0', pluggedBytes: 128 * MiB }])).toEqual([]);
    expect(compareWithQemu(moved, 'vm-a', settledC).map((drift) => drift.kind)).toEqual(['unclaimed-device']);
  });

  it('refuses a VM that is not in the table', () => {
    const error = refusalOf(() => compareWithQemu(stateC(), 'vm-z', []));
    expect(error.message).toBe('Cannot compare vm-z with QEMU: vm-z is not a VM of this table (vm-a, vm-b)');
  });
});
