// Area names and read-only queries on a resource table (find an area, a VM's spare, the pool).
import { TableInvariantError, TableRequestError } from '../errors.js';
import { formatBytes } from '../units.js';
import type { Area, ResourceTable } from './types.js';

/** Name of the monitor's own area. */
export const MONITOR_AREA = 'monitor';
/** Name of the unused area the monitor grants from (the seed's "unused"). */
export const POOL_AREA = 'pool';

/** Name of a VM's OS area: `os:vm-a`. */
export function osAreaName(vm: string): string {
  return `os:${vm}`;
}

/** Name of an app's area: `app:kv`. */
export function appAreaName(app: string): string {
  return `app:${app}`;
}

export function findArea(table: ResourceTable, name: string): Area | undefined {
  return table.areas.find((area) => area.name === name);
}

/** The pool row; a table without exactly one is broken, so this throws TableInvariantError. */
export function poolArea(table: ResourceTable): Area {
  const pools = table.areas.filter((area) => area.kind === 'pool');
  const [pool] = pools;
  if (pool === undefined || pools.length > 1) {
    throw new TableInvariantError({
      epoch: table.epoch,
      violations: [`expected exactly one pool area, found ${pools.length}`],
    });
  }
  return pool;
}

/** Free memory the monitor can grant: the pool's size. */
export function poolBytes(table: ResourceTable): number {
  return poolArea(table).sizeBytes;
}

export function osAreaOf(table: ResourceTable, vm: string): Area | undefined {
  return table.areas.find((area) => area.kind === 'os' && area.user === vm);
}

/** The app areas a VM holds now, in table order. */
export function appAreasOf(table: ResourceTable, vm: string): Area[] {
  return table.areas.filter((area) => area.kind === 'app' && area.user === vm);
}

/** True when `name` is one of the table's two VMs. */
export function isVm(table: ResourceTable, name: string): boolean {
  return name === table.roles.active || name === table.roles.standby;
}

/**
 * What a VM's OS area can give to a new app without asking the monitor: its size above the table's
 * minimum OS size (`osMinBytes`). Figure 4: OS 160 MiB, minimum 32 MiB → 128 MiB spare; OS 32 → none.
 */
export function spareBytes(table: ResourceTable, vm: string): number {
  const os = osAreaOf(table, vm);
  return os === undefined ? 0 : Math.max(0, os.sizeBytes - table.osMinBytes);
}

/** Throws TableRequestError unless `vm` is one of the table's VMs. */
export function requireVm(table: ResourceTable, vm: string, operation: string, refusal: string): void {
  if (isVm(table, vm)) return;
  throw new TableRequestError({
    operation,
    message: `${refusal}: ${vm} is not a VM of this table (${table.roles.active}, ${table.roles.standby})`,
  });
}

/** The pair's other VM: where a hot-standby app on `vm` goes when `vm` fails. */
export function otherVm(table: ResourceTable, vm: string): string {
  return vm === table.roles.active ? table.roles.standby : table.roles.active;
}

/** The app's area, or TableRequestError naming the app. */
export function requireAppArea(table: ResourceTable, app: string, operation: string, refusal: string): Area {
  const area = findArea(table, appAreaName(app));
  if (area?.kind === 'app') return area;
  throw new TableRequestError({
    operation,
    message: `${refusal}: ${app} has no area in the table`,
  });
}

/** Throws TableRequestError unless `bytes` is a positive whole multiple of the block size. */
export function requireBlockMultiple(
  table: ResourceTable,
  bytes: number,
  operation: string,
  refusal: string,
): void {
  if (Number.isSafeInteger(bytes) && bytes > 0 && bytes % table.blockBytes === 0) return;
  throw new TableRequestError({
    operation,
    message: `${refusal}: size must be a positive whole multiple of the ${formatBytes(table.blockBytes)} block, got ${formatBytes(bytes)}`,
  });
}
