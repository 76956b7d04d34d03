// The seed's figure 4 tables (states A, B, C) scaled to MiB, and a row printer for asserting whole tables.
import { TableRequestError } from '../../../src/errors.js';
import { startApp } from '../../../src/table/apps.js';
import { createTable } from '../../../src/table/create.js';
import type { Area, ResourceTable } from '../../../src/table/types.js';
import { MiB } from '../../../src/units.js';

/** Figure 4's numbers: budget 256 MiB, 2 MiB blocks, active OS 160, standby OS 32, monitor 32, minimum OS 32. */
export function stateA(): ResourceTable {
  return createTable({
    budgetBytes: 256 * MiB,
    blockBytes: 2 * MiB,
    roles: { active: 'vm-a', standby: 'vm-b' },
    osAreas: [
      { vm: 'vm-a', sizeBytes: 160 * MiB },
      { vm: 'vm-b', sizeBytes: 32 * MiB },
    ],
    monitorBytes: 32 * MiB,
    osMinBytes: 32 * MiB,
  }).table;
}

/** State B: hot-standby app A (128 MiB, slot0) started on the active. */
export function stateB(): ResourceTable {
  return startApp(stateA(), { app: 'A', vm: 'vm-a', sizeBytes: 128 * MiB, hotStandby: true, slot: 'slot0' })
    .table;
}

/** State C: ordinary app B (32 MiB, slot1) started on the active after B. */
export function stateC(): ResourceTable {
  return startApp(stateB(), { app: 'B', vm: 'vm-a', sizeBytes: 32 * MiB, hotStandby: false, slot: 'slot1' })
    .table;
}

/** The figure's columns: area name, size in MiB, user, on failure. */
export type Row = [name: string, sizeMiB: number, user: string, onFailure: string];

export function rowsInMiB(table: ResourceTable): Row[] {
  return table.areas.map((area) => [area.name, area.sizeBytes / MiB, area.user, area.onFailure]);
}

/** A hand-built copy of `table` with one area's fields changed (no checks: for building broken tables). */
export function patchArea(table: ResourceTable, name: string, patch: Partial<Area>): ResourceTable {
  return { ...table, areas: table.areas.map((area) => (area.name === name ? { ...area, ...patch } : area)) };
}

/** The TableRequestError `action` throws; fails the test when it throws nothing or something else. */
export function refusalOf(action: () => unknown): TableRequestError {
  try {
    action();
  } catch (error) {
    if (error instanceof TableRequestError) return error;
    throw error;
  }
  throw new Error('expected a TableRequestError, nothing was thrown');
}
