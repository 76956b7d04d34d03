// Builds the next table value from changed rows: epoch + 1, deeply frozen, invariants checked.
import { assertInvariants } from './invariants.js';
import type { Area, ResourceTable, Roles } from './types.js';

/** A frozen copy of `table`: callers can hold on to any table value without it changing. */
export function freezeTable(table: ResourceTable): ResourceTable {
  return Object.freeze({
    ...table,
    roles: Object.freeze({ ...table.roles }),
    areas: Object.freeze(table.areas.map((area) => Object.freeze({ ...area }))),
  });
}

/** The table after a change: same budget and block, new rows (and roles), epoch + 1, invariants hold. */
export function nextTable(
  table: ResourceTable,
  change: { areas: readonly Area[]; roles?: Roles },
): ResourceTable {
  const next = freezeTable({
    ...table,
    epoch: table.epoch + 1,
    roles: change.roles ?? table.roles,
    areas: change.areas,
  });
  assertInvariants(next);
  return next;
}

/** An area with a new size; the request follows the size, the last observation is kept. */
export function resizeArea(area: Area, sizeBytes: number): Area {
  return { ...area, sizeBytes, requestedBytes: sizeBytes };
}

/**
 * An area handed to another VM (or a VM that reboots): nothing has been observed there yet, so
 * pluggedBytes is 0 and the observation time and source are dropped.
 */
export function clearObservation(area: Area): Area {
  const { observedAtMs: _atMs, observedBy: _by, ...rest } = area;
  return { ...rest, pluggedBytes: 0 };
}

/** Rows with the area named `name` replaced by `replacement` (or removed when it is undefined). */
export function replaceArea(areas: readonly Area[], name: string, replacement: Area | undefined): Area[] {
  return areas.flatMap((area) => {
    if (area.name !== name) return [area];
    return replacement === undefined ? [] : [replacement];
  });
}

/** Rows with `area` added just before the pool, so tables read like the seed's figure 4. */
export function insertBeforePool(areas: readonly Area[], area: Area): Area[] {
  const poolIndex = areas.findIndex((row) => row.kind === 'pool');
  const at = poolIndex === -1 ? areas.length : poolIndex;
  return [...areas.slice(0, at), area, ...areas.slice(at)];
}
