// Builds the first resource table: each VM's OS area, the monitor's area, and the rest as the pool.
import { TableRequestError } from '../errors.js';
import { formatBytes } from '../units.js';
import { assertInvariants } from './invariants.js';
import { MONITOR_AREA, osAreaName, POOL_AREA } from './lookup.js';
import { freezeTable } from './next.js';
import { type Area, MONITOR, type Roles, type TableResult } from './types.js';

export interface CreateTableRequest {
  budgetBytes: number;
  blockBytes: number;
  roles: Roles;
  /** One OS area per VM: the memory each guest boots with. */
  osAreas: readonly { vm: string; sizeBytes: number }[];
  monitorBytes: number;
  /** The smallest an OS area may shrink to when apps are carved out of it. */
  osMinBytes: number;
}

/** The first table (epoch 1); everything the OS areas and the monitor do not take is the pool. */
export function createTable(request: CreateTableRequest): TableResult {
  const { budgetBytes, blockBytes, roles, osAreas, monitorBytes, osMinBytes } = request;
  const osBytes = osAreas.reduce((sum, os) => sum + os.sizeBytes, 0);
  const neededBytes = osBytes + monitorBytes;
  if (neededBytes > budgetBytes) {
    throw new TableRequestError({
      operation: 'createTable',
      message: `Cannot create the resource table: OS areas (${formatBytes(osBytes)}) and the monitor (${formatBytes(monitorBytes)}) need ${formatBytes(neededBytes)}, the budget is ${formatBytes(budgetBytes)}`,
    });
  }
  const ownArea = (name: string, user: string, sizeBytes: number): Area => ({
    name,
    kind: 'os',
    sizeBytes,
    user,
    onFailure: user,
    requestedBytes: sizeBytes,
    pluggedBytes: 0,
  });
  const areas: Area[] = [
    ...osAreas.map((os) => ownArea(osAreaName(os.vm), os.vm, os.sizeBytes)),
    { ...ownArea(MONITOR_AREA, MONITOR, monitorBytes), kind: 'monitor' },
    { ...ownArea(POOL_AREA, MONITOR, budgetBytes - neededBytes), kind: 'pool' },
  ];
  const table = freezeTable({ epoch: 1, budgetBytes, blockBytes, osMinBytes, roles, areas });
  assertInvariants(table);
  return { table };
}
