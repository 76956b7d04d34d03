import { describe, expect, it } from 'vitest';
import { grantFromPool, returnToPool, startApp } from '../../../src/table/apps.js';
import { failOver } from '../../../src/table/failover.js';
import { moveApp } from '../../../src/table/move.js';
import { nextTable } from '../../../src/table/next.js';
import { recordObserved } from '../../../src/table/observe.js';
import type { ResourceTable } from '../../../src/table/types.js';
import { MiB } from '../../../src/units.js';
import { refusalOf, rowsInMiB, stateA, stateB, stateC } from './fixtures.js';

const operations: [string, (table: ResourceTable) => { table: ResourceTable }][] = [
  ['startApp', (t) => startApp(t, { app: 'kv', vm: 'vm-a', sizeBytes: 2 * MiB, hotStandby: false })],
  ['grantFromPool', (t) => grantFromPool(t, { app: 'A', bytes: 2 * MiB })],
  ['returnToPool', (t) => returnToPool(t, { app: 'A', bytes: 2 * MiB })],
  ['moveApp', (t) => moveApp(t, { app: 'A', toVm: 'vm-b' })],
  ['failOver', (t) => failOver(t, { failedVm: 'vm-a' })],
  ['recordObserved', (t) => recordObserved(t, { area: 'app:A', pluggedBytes: 0, atMs: 5, by: 'plan' })],
];

describe('table values', () => {
  it('numbers the first table epoch 1 and each of states B and C one more', () => {
    expect([stateA().epoch, stateB().epoch, stateC().epoch]).toEqual([1, 2, 3]);
  });

  it.each(operations)('%s returns a table with the epoch one higher', (_name, operation) => {
    const before = stateB();
    expect(operation(before).table.epoch).toBe(before.epoch + 1);
  });

  it.each(operations)('%s leaves the table it was given unchanged', (_name, operation) => {
    const before = stateB();
    const snapshot = structuredClone(before);
    operation(before);
    expect(before).toEqual(snapshot);
  });

  it.each(operations)('%s returns a frozen table', (_name, operation) => {
    const { table } = operation(stateB());
    expect(Object.isFrozen(table)).toBe(true);
    expect(Object.isFrozen(table.roles)).toBe(true);
    expect(Object.isFrozen(table.areas)).toBe(true);
    expect(table.areas.every((area) => Object.isFrozen(area))).toBe(true);
  });

  it('rejects writes to a table value', () => {
    const table = stateA();
    expect(() => {
      (table as { epoch: number }).epoch = 7;
    }).toThrow(TypeError);
    expect(table.epoch).toBe(1);
  });

  it('leaves the table unchanged when a request is refused', () => {
    const before = stateC();
    const snapshot = structuredClone(before);
    refusalOf(() => grantFromPool(before, { app: 'B', bytes: 2 * MiB }));
    expect(before).toEqual(snapshot);
  });

  it('does not freeze the rows the caller passed in', () => {
    const areas = stateA().areas.map((area) => ({ ...area }));
    nextTable(stateA(), { areas });
    expect(Object.isFrozen(areas[0])).toBe(false);
  });

  it('refuses to build a next table that breaks an invariant', () => {
    const areas = stateA().areas.filter((area) => area.kind !== 'pool');
    expect(() => nextTable(stateA(), { areas })).toThrow('expected exactly one pool area, found 0');
  });

  it('keeps the rows in figure order: OS areas, monitor, apps, pool last', () => {
    expect(rowsInMiB(stateC()).map(([name]) => name)).toEqual([
      'os:vm-a',
      'os:vm-b',
      'monitor',
      'app:A',
      'app:B',
      'pool',
    ]);
  });
});
