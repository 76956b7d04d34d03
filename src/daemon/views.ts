// The JSON shapes of `status`, `table` and `history` (field names are a documented contract).
import type { FailoverRecord } from '../failover/timeline.js';
import type { Pair } from '../pair/pair.js';
import { readProcessIds } from '../vm/qemu-user.js';

export interface StatusView {
  epoch: number;
  state: string;
  blocked: boolean;
  blockedReason: string | null;
  vms: Array<{
    name: string;
    role: 'active' | 'standby';
    state: 'running' | 'exited' | 'booting';
    accel: string;
    pid: number | null;
    /** The uid QEMU runs as (from /proc): QEMU's own unprivileged user when the daemon is root. */
    uid: number | null;
    baseBytes: number;
    pluggedBytes: number;
    heartbeatAgeMs: number | null;
  }>;
  apps: Array<{
    name: string;
    vm: string | null;
    state: 'running' | 'waiting';
    restarts: number;
    endpointPort: number;
  }>;
  /** `baton maintenance on|off`: while on, automatic failovers are held and the faults listed here. */
  maintenance: MaintenanceView;
}

export interface MaintenanceView {
  on: boolean;
  since: string | null;
  heldFaults: Array<{ vm: string; app: string | null; signal: string; reason: string; heldAt: string }>;
}

export interface TableView {
  epoch: number;
  budgetBytes: number;
  areas: Array<{
    name: string;
    kind: string;
    sizeBytes: number;
    user: string;
    onFailure: string;
    requestedBytes: number;
    pluggedBytes: number;
  }>;
}

export type HistoryView = Array<{
  id: string;
  kind: string;
  trigger: string;
  app: string | null;
  fromVm: string;
  toVm: string;
  startedAt: string;
  totalMs: number;
  result: string;
  error: string | null;
  phases: Array<{ name: string; ms: number }>;
}>;

export function statusView(pair: Pair, restarts: ReadonlyMap<string, number> = new Map()): StatusView {
  const vms = (['active', 'standby'] as const).map((role) => {
    const name = pair.roles[role];
    const vm = pair.vms.get(name);
    const plugged = pair.table.areas
      .filter((a) => a.kind === 'app' && a.user === name)
      .reduce((sum, a) => sum + a.pluggedBytes, 0);
    const beatAtMs = vm?.machine.agent.lastHeartbeatAtMs;
    return {
      name,
      role,
      state:
        vm === undefined
          ? ('booting' as const)
          : vm.machine.isRunning
            ? ('running' as const)
            : ('exited' as const),
      accel: pair.accel,
      pid: vm?.machine.pid ?? null,
      uid: vm === undefined ? null : (readProcessIds(vm.machine.pid)?.uid ?? null),
      baseBytes: pair.config.baseBytes,
      pluggedBytes: plugged,
      heartbeatAgeMs: beatAtMs === undefined ? null : Math.round(performance.now() - beatAtMs),
    };
  });
  const apps = pair.config.apps.map((app) => {
    const target = pair.endpoints.get(app.name)?.currentTarget;
    return {
      name: app.name,
      vm: target?.vm ?? null,
      state: target === undefined ? ('waiting' as const) : ('running' as const),
      restarts: restarts.get(app.name) ?? 0,
      endpointPort: pair.endpointPort(app.name),
    };
  });
  return {
    epoch: pair.table.epoch,
    state: pair.state,
    blocked: pair.state === 'blocked',
    blockedReason: pair.blockedReason ?? null,
    vms,
    apps,
    maintenance: maintenanceView(pair),
  };
}

export function maintenanceView(pair: Pair): MaintenanceView {
  return {
    on: pair.maintenance.isOn,
    since: pair.maintenance.since ?? null,
    heldFaults: pair.maintenance.held.map((fault) => ({
      vm: fault.vm,
      app: fault.app ?? null,
      signal: fault.signal,
      reason: fault.reason,
      heldAt: fault.heldAt,
    })),
  };
}

export function tableView(pair: Pair): TableView {
  return {
    epoch: pair.table.epoch,
    budgetBytes: pair.table.budgetBytes,
    areas: pair.table.areas.map((a) => ({
      name: a.name,
      kind: a.kind,
      sizeBytes: a.sizeBytes,
      user: a.user,
      onFailure: a.onFailure,
      requestedBytes: a.requestedBytes,
      pluggedBytes: a.pluggedBytes,
    })),
  };
}

export function historyView(records: readonly FailoverRecord[]): HistoryView {
  return records.map((r) => ({
    id: r.id,
    kind: r.kind,
    trigger: r.trigger,
    app: r.app ?? null,
    fromVm: r.fromVm,
    toVm: r.toVm,
    startedAt: r.startedAt,
    totalMs: r.totalMs,
    result: r.result,
    error: r.error ?? null,
    phases: r.phases.map((p) => ({ name: p.name, ms: p.ms })),
  }));
}
