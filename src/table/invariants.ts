// The resource table's invariants: what must hold after every change (DESIGN.md section 3).
import { TableInvariantError } from '../errors.js';
import { formatBytes } from '../units.js';
import { osAreaName, otherVm } from './lookup.js';
import { MONITOR, type ResourceTable } from './types.js';

/** Which invariant a violation breaks; stable, for tests and callers to branch on. */
export type InvariantRule =
  | 'table-shape'
  | 'roles'
  | 'alignment'
  | 'negative'
  | 'sum'
  | 'unique-name'
  | 'single-area'
  | 'os-area'
  | 'user'
  | 'on-failure'
  | 'slot';

export interface TableViolation {
  readonly rule: InvariantRule;
  /** The area concerned, when the violation is about one row. */
  readonly area?: string;
  readonly message: string;
}

function isBlockMultiple(bytes: number, blockBytes: number): boolean {
  return bytes % blockBytes === 0;
}

function checkShape(table: ResourceTable, out: TableViolation[]): boolean {
  const { blockBytes, budgetBytes, osMinBytes, epoch, roles } = table;
  if (!Number.isSafeInteger(blockBytes) || blockBytes <= 0) {
    out.push({
      rule: 'table-shape',
      message: `block size must be a positive whole number, got ${blockBytes}`,
    });
    return false;
  }
  const block = formatBytes(blockBytes);
  if (budgetBytes < 0 || !isBlockMultiple(budgetBytes, blockBytes)) {
    out.push({
      rule: 'table-shape',
      message: `budget ${formatBytes(budgetBytes)} is not a non-negative whole multiple of the ${block} block`,
    });
  }
  if (osMinBytes < 0 || !isBlockMultiple(osMinBytes, blockBytes)) {
    out.push({
      rule: 'table-shape',
      message: `minimum OS size ${formatBytes(osMinBytes)} is not a non-negative whole multiple of the ${block} block`,
    });
  }
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    out.push({ rule: 'table-shape', message: `epoch must be a non-negative whole number, got ${epoch}` });
  }
  if (roles.active === '' || roles.standby === '' || roles.active === roles.standby) {
    out.push({
      rule: 'roles',
      message: `active and standby must be two different VMs, got active '${roles.active}', standby '${roles.standby}'`,
    });
  }
  if (roles.active === MONITOR || roles.standby === MONITOR) {
    out.push({ rule: 'roles', message: `'${MONITOR}' cannot be a VM role` });
  }
  return true;
}

function checkSizes(table: ResourceTable, out: TableViolation[]): void {
  const block = formatBytes(table.blockBytes);
  for (const area of table.areas) {
    for (const [field, bytes] of [
      ['size', area.sizeBytes],
      ['requested size', area.requestedBytes],
    ] as const) {
      if (bytes < 0) {
        out.push({
          rule: 'negative',
          area: area.name,
          message: `${area.name}: ${field} is negative (${bytes} B)`,
        });
      } else if (!isBlockMultiple(bytes, table.blockBytes)) {
        out.push({
          rule: 'alignment',
          area: area.name,
          message: `${area.name}: ${field} ${formatBytes(bytes)} is not a whole multiple of the ${block} block`,
        });
      }
    }
  }
  const sumBytes = table.areas.reduce((sum, area) => sum + area.sizeBytes, 0);
  if (sumBytes !== table.budgetBytes) {
    out.push({
      rule: 'sum',
      message: `areas sum to ${formatBytes(sumBytes)}, the budget is ${formatBytes(table.budgetBytes)}`,
    });
  }
}

function checkRows(table: ResourceTable, out: TableViolation[]): void {
  const { roles } = table;
  const seenNames = new Set<string>();
  const seenSlots = new Map<string, string>();
  for (const area of table.areas) {
    if (seenNames.has(area.name)) {
      out.push({
        rule: 'unique-name',
        area: area.name,
        message: `${area.name}: name used by more than one area`,
      });
    }
    seenNames.add(area.name);
    const isRoleVm = area.user === roles.active || area.user === roles.standby;
    if (area.kind === 'monitor' || area.kind === 'pool') {
      if (area.user !== MONITOR || area.onFailure !== MONITOR) {
        out.push({
          rule: 'user',
          area: area.name,
          message: `${area.name}: a ${area.kind} area is used by and falls back to ${MONITOR}, got user ${area.user}, on failure ${area.onFailure}`,
        });
      }
    } else if (area.kind === 'os') {
      if (!isRoleVm || area.onFailure !== area.user || area.name !== osAreaName(area.user)) {
        out.push({
          rule: 'user',
          area: area.name,
          message: `${area.name}: an OS area is named os:<vm> and is used by and falls back to its VM (${roles.active} or ${roles.standby}), got user ${area.user}, on failure ${area.onFailure}`,
        });
      }
      if (area.sizeBytes < table.osMinBytes) {
        out.push({
          rule: 'os-area',
          area: area.name,
          message: `${area.name}: ${formatBytes(area.sizeBytes)} is below the ${formatBytes(table.osMinBytes)} minimum OS size`,
        });
      }
    } else {
      if (!isRoleVm) {
        out.push({
          rule: 'user',
          area: area.name,
          message: `${area.name}: an app area is used by a VM (${roles.active} or ${roles.standby}), got ${area.user}`,
        });
      }
      // A hot-standby app falls back to the pair's other VM: the standby, or the active once the app moved.
      const expected = area.hotStandby === true ? otherVm(table, area.user) : MONITOR;
      if (area.onFailure !== expected) {
        const what = area.hotStandby === true ? 'a hot-standby app' : 'an ordinary app';
        out.push({
          rule: 'on-failure',
          area: area.name,
          message: `${area.name}: ${what} falls back to ${expected}, got ${area.onFailure}`,
        });
      }
      if (area.slot !== undefined) {
        const key = `${area.user}/${area.slot}`;
        const holder = seenSlots.get(key);
        if (holder !== undefined) {
          out.push({
            rule: 'slot',
            area: area.name,
            message: `${area.name}: slot ${area.slot} on ${area.user} is already used by ${holder}`,
          });
        }
        seenSlots.set(key, area.name);
      }
    }
  }
}

function checkCounts(table: ResourceTable, out: TableViolation[]): void {
  for (const kind of ['monitor', 'pool'] as const) {
    const count = table.areas.filter((area) => area.kind === kind).length;
    if (count !== 1) {
      out.push({ rule: 'single-area', message: `expected exactly one ${kind} area, found ${count}` });
    }
  }
  for (const vm of [table.roles.active, table.roles.standby]) {
    const count = table.areas.filter((area) => area.kind === 'os' && area.user === vm).length;
    if (count !== 1) {
      out.push({ rule: 'os-area', message: `expected exactly one OS area for ${vm}, found ${count}` });
    }
  }
}

/** Every invariant the table breaks, in a stable order; empty when the table is sound. */
export function checkInvariants(table: ResourceTable): TableViolation[] {
  const out: TableViolation[] = [];
  if (!checkShape(table, out)) return out;
  checkSizes(table, out);
  checkRows(table, out);
  checkCounts(table, out);
  return out;
}

/** Throws TableInvariantError listing every violation, or returns when the table is sound. */
export function assertInvariants(table: ResourceTable): void {
  const violations = checkInvariants(table);
  if (violations.length === 0) return;
  throw new TableInvariantError({ epoch: table.epoch, violations: violations.map((v) => v.message) });
}
