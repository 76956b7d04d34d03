// The JSON shapes of `status`, `table` and `history` (field names are a documented contract).
import type { FailoverRecord } from '../failover/timeline.js';
import type { LifecycleState } from '../lifecycle/machine.js';
import { describeQueue } from '../lifecycle/queue.js';
import type { Pair } from '../pair/pair.js';
import { processStartTime } from '../recovery/identity.js';
import { readProcessIds } from '../vm/qemu-user.js';
import { type AppState, deriveStatus, type VmState } from './status-facts.js';

export interface StatusView {
  epoch: number;
  /** Derived from facts (status-facts.ts): never `protected` unless both QEMUs run. */
  state: LifecycleState;
  blocked: boolean;
  blockedReason: string | null;
  /** The state directory's saves: one under way (or due), and how many have started since the daemon did. */
  saves: { isSaving: boolean; started: number };
  vms: Array<{
    name: string;
    role: 'active' | 'standby';
    /** `running` only while its QEMU runs (exit not seen, the process in /proc). */
    state: VmState;
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
    /**
     * `running` only on a running VM; `down` when routed to a VM that is not; `waiting` when routed
     * nowhere; `start-failed` when the agent refused its start for a reason in its configuration
     * (see startError).
     */
    state: AppState | 'start-failed';
    /** Why it is not running (null when it is). */
    reason: string | null;
    restarts: number;
    endpointPort: number;
    /** The last start failure's agent code and the guest's own words; null when none. */
    startError: { vm: string; code: string; message: string } | null;
  }>;
  /** Faults kept until they can be acted on (a serving VM failed while no standby was ready). */
  queued: string[];
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
  const names = [pair.roles.active, pair.roles.standby];
  const derived = deriveStatus({
    lifecycle: pair.lifecycleState(),
    roles: pair.roles,
    vms: names.map((name) => {
      const machine = pair.vms.get(name)?.machine;
      return {
        name,
        isAdopted: machine !== undefined,
        isQemuAlive: machine?.isRunning === true && processStartTime(machine.pid) === machine.startTime,
      };
    }),
    apps: pair.config.apps.map((app) => ({
      name: app.name,
      routedTo: pair.endpoints.get(app.name)?.currentTarget?.vm,
      waitingReason: pair.waitingReasons.get(app.name),
    })),
  });
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
      state: derived.vms[name] ?? ('absent' as const),
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
    const shown = derived.apps[app.name] ?? { state: 'waiting' as const, reason: null };
    const failure = pair.supervision.startFailures.get(app.name);
    return {
      name: app.name,
      vm: target?.vm ?? null,
      state: failure !== undefined ? ('start-failed' as const) : shown.state,
      reason: failure !== undefined ? `did not start on ${failure.vm}: ${failure.code}` : shown.reason,
      restarts: restarts.get(app.name) ?? 0,
      endpointPort: pair.endpointPort(app.name),
      startError: failure === undefined ? null : { ...failure },
    };
  });
  return {
    epoch: pair.table.epoch,
    state: derived.state,
    blocked: derived.state === 'blocked',
    blockedReason: pair.blockedReason ?? null,
    saves: pair.persistence?.saves ?? { isSaving: false, started: 0 },
    vms,
    apps,
    queued: describeQueue(pair.queuedFaults, derived.state === 'blocked'),
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
