// The pair's facts and their one writer: the VMs, roles, table, state and history, changed only through these methods (pair.ts adds the behaviour).
import type { HangDetector } from '../detect/hang.js';
import type { StableEndpoint } from '../endpoint/proxy.js';
import type { Logger } from '../log.js';
import type { MemoryMechanism } from '../memory/mechanism.js';
import type { FailoverKind, FailoverRecord } from '../state/history.js';
import type { StateDoc } from '../state/index.js';
import { createTable, type ResourceTable } from '../table/index.js';
import type { Accel } from '../vm/spec.js';
import type { PairConfig } from './config.js';
import type { DataDisk } from './disk.js';
import { MaintenanceHold } from './maintenance.js';
import type { PairState } from './pair-state.js';
import type { PairPersistence } from './persist.js';
import { createSupervision, noteStarted } from './supervise.js';
import type { PairVm } from './vm-factory.js';

/** The pair's state, table, roles and history; a subclass acts on them only through the methods here. */
export abstract class PairCore {
  readonly config: PairConfig;
  readonly log: Logger;
  readonly accel: Accel;
  readonly mechanism: MemoryMechanism;
  readonly vms = new Map<string, PairVm>();
  readonly endpoints = new Map<string, StableEndpoint>();
  readonly disks = new Map<string, DataDisk>();
  readonly history: FailoverRecord[] = [];
  readonly supervision = createSupervision();
  /** One hang detector per VM incarnation (heartbeat silence confirmed by sync or QMP). */
  readonly detectors = new Map<string, HangDetector>();
  /** Every table the pair has committed, oldest first (bounded): the states a test or `history` can show. */
  readonly tableHistory: ResourceTable[] = [];
  /** `baton maintenance on|off`: automatic failovers held, faults kept (maintenance.ts). */
  readonly maintenance: MaintenanceHold;
  /** Saves the table, history and VM identities on every change; absent in tests without a state dir. */
  persistence: PairPersistence | undefined;
  /** How the pair came up: booted, or re-attached to the QEMUs of a previous daemon (with the time it took). */
  startedBy: { how: 'booted' | 're-attached'; ms: number } = { how: 'booted', ms: 0 };
  private currentRoles: { active: string; standby: string };
  private currentTable: ResourceTable;
  private currentState: PairState = 'starting';
  private reason: string | undefined;

  protected constructor(
    config: PairConfig,
    options: { log: Logger; accel: Accel; mechanism: MemoryMechanism },
  ) {
    this.config = config;
    this.log = options.log;
    this.accel = options.accel;
    this.mechanism = options.mechanism;
    this.maintenance = new MaintenanceHold({
      stateDir: config.stateDir,
      log: options.log,
      onEvent: (type, fields) => void this.persistence?.journal.append(type, fields).catch(() => undefined),
    });
    const [active, standby] = config.vmNames;
    this.currentRoles = { active, standby };
    this.currentTable = createTable({
      budgetBytes: config.budgetBytes,
      blockBytes: config.blockBytes,
      roles: this.roles,
      osAreas: config.vmNames.map((vm) => ({ vm, sizeBytes: config.baseBytes })),
      monitorBytes: config.monitorBytes,
      osMinBytes: config.baseBytes,
    }).table;
    this.tableHistory.push(this.currentTable);
  }

  /** Called after every table change (the pool may have grown). */
  protected abstract tableChanged(): void;

  /** Called after every state change. */
  protected abstract stateChanged(previous: PairState, next: PairState): void;

  get table(): ResourceTable {
    return this.currentTable;
  }

  /** Which VM is the active and which the standby; only the pair changes them. */
  get roles(): { readonly active: string; readonly standby: string } {
    return this.currentRoles;
  }

  /** The pair's state; only the pair changes it. */
  get state(): PairState {
    return this.currentState;
  }

  /** Why the pair is `blocked`, as `status` shows it. */
  get blockedReason(): string | undefined {
    return this.reason;
  }

  get activeVm(): PairVm | undefined {
    return this.vms.get(this.roles.active);
  }

  get standbyVm(): PairVm | undefined {
    return this.vms.get(this.roles.standby);
  }

  endpointPort(app: string): number {
    return this.endpoints.get(app)?.port ?? 0;
  }

  /** The port each app's stable endpoint listens on, persisted so a restart listens on the same. */
  endpointPorts(): Record<string, number> {
    return Object.fromEntries([...this.endpoints].map(([app, endpoint]) => [app, endpoint.port]));
  }

  /** The one way the table changes: `change` applied to the table current now (no await can lose an update). */
  commitTable(change: (table: ResourceTable) => ResourceTable): ResourceTable {
    this.setTable(change(this.currentTable));
    return this.currentTable;
  }

  /** Commits a failover's table change to the table current now; a whole-VM failover drops the failed VM. */
  commitFailover(kind: FailoverKind, from: string, change: (table: ResourceTable) => ResourceTable): void {
    const next = change(this.table);
    if (kind === 'whole-vm') {
      const target = next.roles.active;
      if (this.vms.get(target)?.machine.isRunning !== true)
        throw new Error(`the new active ${target} is not running, so nothing can move to it`);
      this.currentRoles = { ...next.roles };
      this.vms.delete(from);
    }
    // A switchover swaps the roles and keeps both VMs: the old active runs on as the standby.
    if (kind === 'switchover') this.currentRoles = { ...next.roles };
    this.setTable(next);
  }

  /** Keeps a closed failover record in the history, and saves it. */
  keepRecord(record: FailoverRecord): void {
    this.history.push(record);
    this.persistence?.changed();
  }

  /** Stops acting: `blocked`, with the reason `status` shows. */
  block(reason: string): void {
    this.setState('blocked');
    this.reason = reason;
    this.log.error({ reason }, 'blocked');
  }

  /** Starts saving the pair through `persistence` (and saves now). */
  persistThrough(persistence: PairPersistence): void {
    this.persistence = persistence;
    persistence.bind(this);
    persistence.changed();
  }

  protected setTable(table: ResourceTable): void {
    this.currentTable = table;
    this.tableHistory.push(table);
    if (this.tableHistory.length > 200) this.tableHistory.shift();
    this.persistence?.changed();
    this.tableChanged();
  }

  /** Every state change passes here. */
  protected setState(next: PairState): void {
    const previous = this.currentState;
    this.currentState = next;
    this.stateChanged(previous, next);
  }

  /** Takes a previous daemon's saved roles, table and history as the pair's own. */
  protected restore(saved: StateDoc): void {
    this.currentRoles = { ...saved.table.roles };
    this.setTable(saved.table);
    this.history.push(...saved.history);
  }

  /** The pair forgets the VM `name` (stopped, failed over, or exited). */
  protected dropVm(name: string): void {
    this.vms.delete(name);
    this.persistence?.changed();
  }

  /** The app serves from `vm` on `hostPort`: its endpoint routes there and its supervision clock restarts. */
  protected serveFrom(app: string, vm: PairVm | undefined, hostPort: number): void {
    if (vm !== undefined)
      this.endpoints.get(app)?.route({ host: '127.0.0.1', port: hostPort, vm: vm.machine.spec.name });
    noteStarted(this.supervision, app);
  }

  /**
   * Blocked with QEMUs that exited (both VMs died in a failover): they run nothing and never will,
   * so they leave the pair and vms.json, and their run directories go; the table keeps their
   * areas (one owner each) until an operator acts, as `blocked` says.
   */
  protected async forgetExitedVms(): Promise<void> {
    for (const [name, vm] of [...this.vms]) {
      if (vm.machine.isRunning) continue;
      this.detectors.get(name)?.stop();
      this.vms.delete(name);
      await vm.machine.shutdown({ timeoutMs: 500 }).catch(() => undefined);
      this.log.warn({ vm: name, pid: vm.machine.pid }, 'blocked: the exited VM leaves the pair');
    }
    this.persistence?.changed();
  }
}
