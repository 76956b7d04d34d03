// Whole-VM hand-off when a VM fails (seed figure 5, claim 7): the table after takeover.
import { TableRequestError } from '../errors.js';
import { appAreasOf, otherVm, poolArea, requireVm } from './lookup.js';
import { clearObservation, nextTable, resizeArea } from './next.js';
import type { Area, ResourceTable, TableResult } from './types.js';

export interface FailOverResult extends TableResult {
  /** Hot-standby app areas now held by the new active VM (to plug there and start the apps). */
  readonly movedAreas: readonly string[];
  /** Ordinary app areas of the failed VM, removed and returned to the pool. */
  readonly returnedAreas: readonly string[];
  /** What the failed VM's OS area gave back to the pool by shrinking to the minimum OS size. */
  readonly osReturnedBytes: number;
}

/**
 * The table after the VM `failedVm` failed:
 * - each hot-standby app area of the failed VM goes to the other VM (its onFailure); its plugged
 *   size there is unknown until observed;
 * - each ordinary app area of the failed VM returns to the pool and its row is removed;
 * - the survivor is the active, the failed VM the next standby (re-protection): when the active
 *   failed the roles swap; when the standby failed (it held apps moved to it alone) they stay.
 *   Every hot-standby app area now falls back to the failed VM;
 * - the failed VM's OS area stays its own, because the VM is rebooted small as the new standby:
 *   it shrinks to the minimum OS size (osMinBytes) and the rest returns to the pool. Its plugged
 *   size is cleared until the rebooted VM is observed.
 * A failed standby that holds no app is refused: it has nothing to hand over, it is only rebooted.
 */
export function failOver(table: ResourceTable, request: { failedVm: string }): FailOverResult {
  const { failedVm } = request;
  const operation = 'failOver';
  const refusal = `Cannot fail over from ${failedVm}`;
  requireVm(table, failedVm, operation, refusal);
  const survivor = otherVm(table, failedVm);
  if (failedVm === table.roles.standby && appAreasOf(table, failedVm).length === 0) {
    throw new TableRequestError({
      operation,
      message: `${refusal}: it is the standby and holds no app, so it has nothing to hand over`,
    });
  }

  const movedAreas: string[] = [];
  const returnedAreas: string[] = [];
  let osReturnedBytes = 0;
  let returnedBytes = 0;
  const areas: Area[] = [];
  for (const area of table.areas) {
    if (area.kind === 'app' && area.user === failedVm) {
      if (area.hotStandby === true) {
        movedAreas.push(area.name);
        areas.push({ ...clearObservation(area), user: area.onFailure, onFailure: failedVm });
      } else {
        returnedAreas.push(area.name);
        returnedBytes += area.sizeBytes;
      }
    } else if (area.kind === 'app' && area.hotStandby === true) {
      areas.push({ ...area, onFailure: failedVm });
    } else if (area.kind === 'os' && area.user === failedVm) {
      osReturnedBytes = area.sizeBytes - Math.min(area.sizeBytes, table.osMinBytes);
      areas.push(clearObservation(resizeArea(area, area.sizeBytes - osReturnedBytes)));
    } else {
      areas.push(area);
    }
  }
  const pool = poolArea(table);
  const grownPool = resizeArea(pool, pool.sizeBytes + returnedBytes + osReturnedBytes);
  const next = nextTable(table, {
    areas: areas.map((area) => (area.name === pool.name ? grownPool : area)),
    roles: { active: survivor, standby: failedVm },
  });
  return { table: next, movedAreas, returnedAreas, osReturnedBytes };
}
