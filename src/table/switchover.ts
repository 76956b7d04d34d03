// Planned switchover (no fault): the table after every hot-standby app of the active moved to the standby and the roles swapped.
import { clearObservation, nextTable } from './next.js';
import type { ResourceTable, TableResult } from './types.js';

export interface SwitchOverResult extends TableResult {
  /** Hot-standby app areas that changed user from the old active to the new active. */
  readonly movedAreas: readonly string[];
}

/**
 * Both VMs keep running, so nothing returns to the pool and no OS area shrinks:
 * - each hot-standby app area of the active goes to the standby and falls back to the old active;
 *   its plugged size there is unknown until observed;
 * - a hot-standby app already on the standby (moved alone) stays there;
 * - an ordinary app area stays on the VM that runs it (it is not protected: moving it would stop it);
 * - the roles swap: the standby is the active, the old active the standby.
 */
export function switchOver(table: ResourceTable): SwitchOverResult {
  const { active, standby } = table.roles;
  const movedAreas: string[] = [];
  const areas = table.areas.map((area) => {
    if (area.kind !== 'app' || area.hotStandby !== true || area.user !== active) return area;
    movedAreas.push(area.name);
    return { ...clearObservation(area), user: standby, onFailure: active };
  });
  return { table: nextTable(table, { areas, roles: { active: standby, standby: active } }), movedAreas };
}
