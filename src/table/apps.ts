// Starting an app (seed claim 5, figure 4) and growing or shrinking its area from or to the pool.
import { TableRequestError } from '../errors.js';
import { formatBytes } from '../units.js';
import {
  appAreaName,
  appAreasOf,
  findArea,
  osAreaName,
  poolArea,
  requireAppArea,
  requireBlockMultiple,
  requireVm,
  spareBytes,
} from './lookup.js';
import { insertBeforePool, nextTable, replaceArea, resizeArea } from './next.js';
import { type Area, MONITOR, type ResourceTable, type TableResult } from './types.js';

export interface StartAppRequest {
  app: string;
  vm: string;
  sizeBytes: number;
  hotStandby: boolean;
  /** The memory slot (virtio-mem device id) that will hold the app's memory. */
  slot?: string;
}

export interface StartAppResult extends TableResult {
  /** How much of the app's area was carved out of the VM's OS area. */
  readonly fromOsBytes: number;
  /** How much the monitor granted from the pool (memory to plug into the VM). */
  readonly fromPoolBytes: number;
}

/**
 * Gives a new app its area on `vm`. The VM's OS area gives what it has spare (its size above the
 * minimum OS size); the monitor grants the shortfall from the pool. Refused, with the numbers, when
 * the two together are not enough. A hot-standby app falls back to the standby, any other to the
 * monitor, and starts only on the active VM (seed claim 8: it is the one protected by the standby).
 */
export function startApp(table: ResourceTable, request: StartAppRequest): StartAppResult {
  const { app, vm, sizeBytes, hotStandby, slot } = request;
  const operation = 'startApp';
  const refusal = `Cannot start ${app} on ${vm}`;
  const refuse = (detail: string): never => {
    throw new TableRequestError({ operation, message: `${refusal}: ${detail}` });
  };
  requireVm(table, vm, operation, refusal);
  const existing = findArea(table, appAreaName(app));
  if (existing !== undefined) refuse(`it already has area ${existing.name} on ${existing.user}`);
  requireBlockMultiple(table, sizeBytes, operation, refusal);
  if (hotStandby && vm !== table.roles.active) {
    refuse(`a hot-standby app starts on the active VM (${table.roles.active}), ${vm} is the standby`);
  }
  const slotHolder = appAreasOf(table, vm).find((area) => slot !== undefined && area.slot === slot);
  if (slotHolder !== undefined) refuse(`slot ${slot} is already used by ${slotHolder.name}`);

  const spare = spareBytes(table, vm);
  const fromOsBytes = Math.min(spare, sizeBytes);
  const fromPoolBytes = sizeBytes - fromOsBytes;
  const pool = poolArea(table);
  if (fromPoolBytes > pool.sizeBytes) {
    refuse(
      `${app} asked for ${formatBytes(sizeBytes)}, ${osAreaName(vm)} has ${formatBytes(spare)} spare above the ${formatBytes(table.osMinBytes)} minimum and the pool has ${formatBytes(pool.sizeBytes)}`,
    );
  }

  const appArea: Area = {
    name: appAreaName(app),
    kind: 'app',
    sizeBytes,
    user: vm,
    onFailure: hotStandby ? table.roles.standby : MONITOR,
    requestedBytes: sizeBytes,
    pluggedBytes: 0,
    hotStandby,
    ...(slot === undefined ? {} : { slot }),
  };
  let areas: Area[] = [...table.areas];
  const os = findArea(table, osAreaName(vm));
  if (os !== undefined && fromOsBytes > 0) {
    areas = replaceArea(areas, os.name, resizeArea(os, os.sizeBytes - fromOsBytes));
  }
  areas = replaceArea(areas, pool.name, resizeArea(pool, pool.sizeBytes - fromPoolBytes));
  areas = insertBeforePool(areas, appArea);
  return { table: nextTable(table, { areas }), fromOsBytes, fromPoolBytes };
}

/** Grows an app's area by `bytes` from the pool (the seed's resource request unit). */
export function grantFromPool(table: ResourceTable, request: { app: string; bytes: number }): TableResult {
  const { app, bytes } = request;
  const operation = 'grantFromPool';
  const refusal = `Cannot grant memory to ${app}`;
  const area = requireAppArea(table, app, operation, refusal);
  requireBlockMultiple(table, bytes, operation, refusal);
  const pool = poolArea(table);
  if (bytes > pool.sizeBytes) {
    throw new TableRequestError({
      operation,
      message: `${refusal}: pool has ${formatBytes(pool.sizeBytes)}, ${app} asked for ${formatBytes(bytes)}`,
    });
  }
  let areas = replaceArea(table.areas, area.name, resizeArea(area, area.sizeBytes + bytes));
  areas = replaceArea(areas, pool.name, resizeArea(pool, pool.sizeBytes - bytes));
  return { table: nextTable(table, { areas }) };
}

/**
 * Gives an app's memory back to the pool: `bytes` of it, or (without `bytes`) the whole area, whose
 * row is then removed (the app has stopped). Memory carved out of the OS area also goes to the pool:
 * the OS gets more back only by asking, like any other request.
 */
export function returnToPool(table: ResourceTable, request: { app: string; bytes?: number }): TableResult {
  const { app } = request;
  const operation = 'returnToPool';
  const refusal = `Cannot return memory from ${app}`;
  const area = requireAppArea(table, app, operation, refusal);
  const bytes = request.bytes ?? area.sizeBytes;
  if (request.bytes !== undefined) requireBlockMultiple(table, bytes, operation, refusal);
  if (bytes > area.sizeBytes) {
    throw new TableRequestError({
      operation,
      message: `${refusal}: ${app} has ${formatBytes(area.sizeBytes)}, asked to return ${formatBytes(bytes)}`,
    });
  }
  const pool = poolArea(table);
  const remaining = area.sizeBytes - bytes;
  let areas = replaceArea(table.areas, area.name, remaining === 0 ? undefined : resizeArea(area, remaining));
  areas = replaceArea(areas, pool.name, resizeArea(pool, pool.sizeBytes + bytes));
  return { table: nextTable(table, { areas }) };
}
