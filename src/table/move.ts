// Moving one app's area to the other VM while both OSes run (seed figure 6, claims 4, 6, 9).
import { TableRequestError } from '../errors.js';
import { appAreasOf, requireAppArea, requireVm } from './lookup.js';
import { clearObservation, nextTable, replaceArea } from './next.js';
import type { ResourceTable, TableResult } from './types.js';

/**
 * The app's area changes user to `toVm`, same size and same slot id (the standby has a mirror
 * device per slot); other apps stay where they are. Only a hot-standby app may move to the standby
 * (seed claim 8); any app may move to the active (back after a repair). A hot-standby area then
 * falls back to the VM it left, so a later fault of `toVm` hands the app back. The area's plugged
 * size is unknown on `toVm` until observed, so its observation is cleared.
 */
export function moveApp(table: ResourceTable, request: { app: string; toVm: string }): TableResult {
  const { app, toVm } = request;
  const operation = 'moveApp';
  const refusal = `Cannot move ${app} to ${toVm}`;
  const refuse = (detail: string): never => {
    throw new TableRequestError({ operation, message: `${refusal}: ${detail}` });
  };
  const area = requireAppArea(table, app, operation, refusal);
  requireVm(table, toVm, operation, refusal);
  if (area.user === toVm) refuse(`${app} is already on ${toVm}`);
  if (toVm === table.roles.standby && area.hotStandby !== true) {
    refuse(`${app} is not a hot-standby app, only those move to the standby`);
  }
  const slotHolder = appAreasOf(table, toVm).find(
    (other) => area.slot !== undefined && other.slot === area.slot,
  );
  if (slotHolder !== undefined) refuse(`slot ${area.slot} on ${toVm} is already used by ${slotHolder.name}`);

  const onFailure = area.hotStandby === true ? area.user : area.onFailure;
  const moved = { ...clearObservation(area), user: toVm, onFailure };
  return { table: nextTable(table, { areas: replaceArea(table.areas, area.name, moved) }) };
}
