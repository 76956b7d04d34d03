// The resource table's public API: pure values and operations, no I/O, no clock.
export { grantFromPool, returnToPool, type StartAppRequest, type StartAppResult, startApp } from './apps.js';
export { type CreateTableRequest, createTable } from './create.js';
export { type FailOverResult, failOver } from './failover.js';
export { assertInvariants, checkInvariants, type InvariantRule, type TableViolation } from './invariants.js';
export {
  appAreaName,
  appAreasOf,
  findArea,
  isVm,
  MONITOR_AREA,
  osAreaName,
  osAreaOf,
  otherVm,
  POOL_AREA,
  poolArea,
  poolBytes,
  spareBytes,
} from './lookup.js';
export { moveApp } from './move.js';
export { freezeTable } from './next.js';
export {
  compareWithQemu,
  type Drift,
  type DriftKind,
  type Observation,
  type QemuDevice,
  recordObserved,
} from './observe.js';
export { type SwitchOverResult, switchOver } from './switchover.js';
export {
  type Area,
  type AreaKind,
  MONITOR,
  type ObservationSource,
  type ResourceTable,
  type Roles,
  type TableResult,
} from './types.js';
