// The protected pair: two VMs, the resource table, the apps' endpoints, and the detectors that trigger failover.
import { join } from 'node:path';
import { HangDetector } from '../detect/hang.js';
import { machineProbes } from '../detect/machine-probes.js';
import { StableEndpoint } from '../endpoint/proxy.js';
import type { FailoverContext, FailoverTrigger } from '../failover/context.js';
import { executePlan } from '../failover/executor.js';
import { planResume } from '../failover/plan.js';
import type { Logger } from '../log.js';
import type { MemoryMechanism } from '../memory/mechanism.js';
import type { AttachDoc } from '../recovery/identity.js';
import type { FailoverKind, FailoverRecord } from '../state/history.js';
import type { InFlightOperation, StateDoc } from '../state/index.js';
import {
  appAreaName,
  appAreasOf,
  createTable,
  type ResourceTable,
  recordObserved,
  startApp,
} from '../table/index.js';
import type { Accel } from '../vm/spec.js';
import { type AppMoveTrigger, moveApp, planMove } from './app-move.js';
import type { PairConfig } from './config.js';
import { diskPathOf } from './config.js';
import { type DataDisk, ensureDataDisk } from './disk.js';
import { failoverContext } from './failover-context.js';
import { type Granted, grantMemory } from './grant.js';
import { releaseHeldFaults } from './held-faults.js';
import { MaintenanceHold } from './maintenance.js';
import { serveMemRequests } from './mem-requests.js';
import type { PairState } from './pair-state.js';
import type { PairPersistence } from './persist.js';
import { placeApp } from './place-app.js';
import { memoryDrift, reattachVms, runningApps } from './reattach.js';
import { createSupervision, noteStarted, superviseVm } from './supervise.js';
import { checkSwitchover, moveOrdinaryApps, runSwitchover } from './switchover.js';
import { attachDiskAgain } from './vm-actions.js';
import { bootPairVm, type PairVm } from './vm-factory.js';
import { failOverWholeVm, planAppsOf } from './whole-vm-failover.js';

export type { FailoverTrigger } from '../failover/context.js';
export type { PairState } from './pair-state.js';

/** Runs and protects the pair. Create with `Pair.start`; stop with `stop()`. */
export class Pair {
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
  private currentRoles: { active: string; standby: string };
  /** Every table the pair has committed, oldest first (bounded): the states a test or `history` can show. */
  readonly tableHistory: ResourceTable[] = [];
  private currentTable!: ResourceTable;
  private currentState: PairState = 'starting';
  blockedReason: string | undefined;
  /** The failover under way, if any: a second signal joins it instead of starting another. */
  inFlight: Promise<FailoverRecord> | undefined;
  /** The id of the failover under way (set before its first phase), for idempotent requests. */
  inFlightId: string | undefined;
  /** Saves the table, history and VM identities on every change; absent in tests without a state dir. */
  persistence: PairPersistence | undefined;
  /** How the pair came up: booted, or re-attached to the QEMUs of a previous daemon (with the time it took). */
  startedBy: { how: 'booted' | 're-attached'; ms: number } = { how: 'booted', ms: 0 };
  /** A fresh standby booting after a re-attach found it gone; stop waits for it. */
  private reprotecting: Promise<void> | undefined;
  /** Set by leaveRunning: a later stop() leaves the VMs alone. */
  private isLeftRunning = false;
  /** `baton maintenance on|off`: automatic failovers held, faults kept (maintenance.ts). */
  readonly maintenance: MaintenanceHold;
  /** A planned switchover runs: a fault meanwhile is held and acted on when it ends. */
  private isSwitchingOver = false;

  private constructor(
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
    this.setTable(
      createTable({
        budgetBytes: config.budgetBytes,
        blockBytes: config.blockBytes,
        roles: this.roles,
        osAreas: config.vmNames.map((vm) => ({ vm, sizeBytes: config.baseBytes })),
        monitorBytes: config.monitorBytes,
        osMinBytes: config.baseBytes,
      }).table,
    );
  }

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

  /** The one way the table changes: `change` applied to the table current now (no await can lose an update). */
  commitTable(change: (table: ResourceTable) => ResourceTable): ResourceTable {
    this.setTable(change(this.currentTable));
    return this.currentTable;
  }

  /** Grows an app's memory from the pool (`baton request`, and the agents' mem.request): grant.ts. */
  grantMemory(request: { app: string; extraBytes: number; vm?: string }): Promise<Granted> {
    return grantMemory(this, request);
  }

  private setTable(table: ResourceTable): void {
    this.currentTable = table;
    this.tableHistory.push(table);
    if (this.tableHistory.length > 200) this.tableHistory.shift();
    this.persistence?.changed();
  }

  /** Starts saving the pair through `persistence` (and saves now). */
  persistThrough(persistence: PairPersistence): void {
    this.persistence = persistence;
    persistence.bind(this);
    persistence.changed();
  }

  /** The port each app's stable endpoint listens on, persisted so a restart listens on the same. */
  endpointPorts(): Record<string, number> {
    return Object.fromEntries([...this.endpoints].map(([app, endpoint]) => [app, endpoint.port]));
  }

  /**
   * Re-attaches to the VMs a previous daemon left running (`saved` and `attach` from the state
   * directory) when both are still there and answer; otherwise boots both VMs in parallel, opens
   * the endpoints and starts every app on the active.
   */
  static async start(
    config: PairConfig,
    options: {
      log: Logger;
      accel: Accel;
      mechanism: MemoryMechanism;
      onProgress?: (line: string) => void;
      persistence?: PairPersistence;
      saved?: StateDoc;
      attach?: AttachDoc;
    },
  ): Promise<Pair> {
    const pair = new Pair(config, options);
    const progress = options.onProgress ?? (() => undefined);
    try {
      await pair.maintenance.load();
      for (const app of config.apps) {
        if (app.diskBytes !== undefined)
          pair.disks.set(
            app.name,
            await ensureDataDisk(app.name, diskPathOf(config, app.name), app.diskBytes),
          );
        const endpoint = new StableEndpoint({ app: app.name, log: options.log });
        await listenOnPreferred(endpoint, options.attach?.endpointPorts[app.name], app.endpointPort);
        endpoint.hold();
        pair.endpoints.set(app.name, endpoint);
      }
      if (options.attach !== undefined && options.attach.vms.length > 0) {
        const startedAtMs = performance.now();
        // Resumed phases are journaled; the state is saved once the pair is whole (persistThrough).
        pair.persistence = options.persistence;
        if (await pair.reattach(options.attach, options.saved, progress)) {
          pair.startedBy = { how: 're-attached', ms: Math.round(performance.now() - startedAtMs) };
          if (options.persistence !== undefined) pair.persistThrough(options.persistence);
          return pair;
        }
      }
      if (options.persistence !== undefined) pair.persistThrough(options.persistence);
      progress(`booting ${pair.roles.active} (active) and ${pair.roles.standby} (standby) ...`);
      const booted = await Promise.allSettled([
        bootPairVm(config, pair.roles.active, 'active', options),
        bootPairVm(config, pair.roles.standby, 'standby', options),
      ]);
      for (const result of booted) if (result.status === 'fulfilled') pair.adopt(result.value);
      const failed = booted.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      for (const app of config.apps) {
        progress(`starting ${app.name} on ${pair.roles.active} ...`);
        await pair.startAppOnActive(app.name);
      }
      pair.currentState = 'protected';
      return pair;
    } catch (error) {
      await pair.stop();
      throw error;
    }
  }

  /**
   * Takes back both VMs of a previous daemon: identity checked (a reused pid is never signalled),
   * QMP and agent reconnected with a sync nonce, the table compared with QEMU's memory devices,
   * and each app found running through `app.list` (started again only if it is not). False (and
   * every VM it did attach stopped) when the pair cannot be taken back whole.
   */
  private async reattach(
    attach: AttachDoc,
    saved: StateDoc | undefined,
    progress: (line: string) => void,
  ): Promise<boolean> {
    const result = await reattachVms(attach.vms, this.log, join(this.config.stateDir, 'run'));
    const byName = new Map(result.vms.map((vm) => [vm.machine.spec.name, vm]));
    const op = saved?.operations.find((o) => o.kind === 'whole-vm');
    const problem =
      saved === undefined
        ? 'no saved state'
        : saved.table.budgetBytes !== this.config.budgetBytes
          ? 'the saved table has another budget than the config'
          : op !== undefined
            ? byName.has(op.toVm)
              ? undefined
              : `the target of the interrupted failover ${op.id}, ${op.toVm}, is gone (${result.gone.get(op.toVm) ?? 'not recorded'})`
            : byName.has(saved.table.roles.active)
              ? undefined
              : `the active ${saved.table.roles.active} is gone (${result.gone.get(saved.table.roles.active) ?? 'not recorded'})`;
    if (problem !== undefined || saved === undefined) {
      progress(`cannot re-attach: ${problem}; booting a fresh pair`);
      this.log.warn({ problem }, 'cannot re-attach; booting a fresh pair');
      await Promise.all(result.vms.map((vm) => vm.machine.shutdown({ timeoutMs: 2000 })));
      return false;
    }
    this.currentRoles = { ...saved.table.roles };
    this.setTable(saved.table);
    this.history.push(...saved.history);
    const moves = saved.operations.filter((other) => other.kind === 'app');
    for (const other of op === undefined ? [] : moves) {
      // A move beside a whole-VM failover: the failover decides where every app runs.
      this.log.warn(
        { operation: other.id, app: other.app },
        'an interrupted app move gives way to a failover',
      );
      this.persistence?.operations.set(other.id, other);
      this.persistence?.closeOperation(other.id, 'rolled-back');
    }
    if (op !== undefined) {
      const target = byName.get(op.toVm);
      if (target === undefined) return false;
      this.adopt(target);
      const failed = byName.get(op.fromVm);
      for (const endpoint of this.endpoints.values()) endpoint.hold();
      const ctx = failoverContext(
        this,
        failed === undefined ? {} : { extraVms: new Map([[op.fromVm, failed]]) },
      );
      if (!(await this.resume(op, ctx, progress))) return true;
    } else {
      for (const vm of result.vms) this.adopt(vm);
      const switchover = saved.operations.find((other) => other.kind === 'switchover');
      if (switchover !== undefined) {
        // Its apps may be half-moved (a disk on either VM): starting any of them could run it twice.
        this.persistence?.operations.set(switchover.id, switchover);
        this.persistence?.closeOperation(switchover.id, 'blocked');
        const at =
          switchover.phase === undefined
            ? 'before its first step'
            : `at ${switchover.phase}${switchover.phaseApp === undefined ? '' : ` of ${switchover.phaseApp}`}`;
        this.block(
          `the switchover ${switchover.id} was interrupted by a daemon restart ${at}: check where its apps run, then baton down and up`,
        );
        progress(`blocked: ${this.blockedReason}`);
        return true;
      }
      for (const move of moves) if (!(await this.resume(move, failoverContext(this), progress))) return true;
    }
    for (const vm of this.vms.values()) {
      const drift = await memoryDrift(this.table, vm, this.config.apps).catch((error: Error) => [
        `${vm.machine.spec.name}: query-memory-devices failed: ${error.message}`,
      ]);
      for (const line of drift)
        this.log.warn({ vm: vm.machine.spec.name }, `table drift after re-attach: ${line}`);
    }
    for (const app of this.config.apps) {
      const owner = this.table.areas.find((a) => a.name === appAreaName(app.name))?.user ?? this.roles.active;
      const vm = this.vms.get(owner);
      if (vm === undefined) continue; // Its VM failed: only hot-standby apps move.
      const running = await runningApps(vm).catch(() => new Map<string, number>());
      if (running.has(app.name)) {
        this.endpoints
          .get(app.name)
          ?.route({ host: '127.0.0.1', port: vm.forwards.get(app.name) ?? 0, vm: vm.machine.spec.name });
        noteStarted(this.supervision, app.name);
        continue;
      }
      this.log.warn(
        { app: app.name, vm: vm.machine.spec.name },
        'app not running after re-attach; starting it',
      );
      await this.restartApp(app.name, vm);
    }
    const standbyGone = !this.vms.has(this.roles.standby);
    this.currentState = standbyGone ? 'unprotected' : 'protected';
    if (standbyGone && appAreasOf(this.table, this.roles.standby).length > 0) {
      // The standby ran apps moved to it alone and died with the daemon: they fail over to the active.
      void this.onFault({ vm: this.roles.standby, signal: 'qemu-exit', detectedAtMs: performance.now() });
    } else if (standbyGone) this.reprotecting = this.reprotect(this.roles.standby);
    progress(
      `re-attached to ${[...this.vms.values()].map((vm) => `${vm.machine.spec.name} (pid ${vm.machine.pid})`).join(' and ')} in ${Math.round(result.durationMs)} ms`,
    );
    return true;
  }

  /**
   * Finishes (or rolls back) an operation a daemon crash interrupted, from its journaled phase
   * (planResume, then the executor). False when it could not: the daemon stays up, visibly
   * blocked, with the VMs as they are, so nothing is started anywhere it might already run.
   */
  private async resume(
    op: InFlightOperation,
    ctx: FailoverContext,
    progress: (line: string) => void,
  ): Promise<boolean> {
    const plan = planResume(this.table, op, planAppsOf(this.config.apps, this.disks));
    const what = op.kind === 'app' ? `the move of ${op.app ?? ''}` : 'failover';
    this.log.warn({ operation: op.id, resume: plan.resume }, `resuming ${what}: ${plan.resume?.reason}`);
    progress(`resuming ${what} ${op.id} (${op.fromVm} → ${op.toVm}): ${plan.resume?.reason}`);
    const { outcome, error } = await executePlan(plan, ctx, {
      trigger: `${op.trigger} (resumed after a daemon restart)`,
      resumeOf: op,
    });
    if (outcome === 'succeeded' || outcome === 'rolled-back') return true;
    const kind = op.kind === 'app' ? 'move' : 'failover';
    this.block(`the interrupted ${kind} ${op.id} could not be finished: ${error?.message ?? outcome}`);
    progress(`blocked: ${this.blockedReason}`);
    return false;
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
    this.currentState = 'blocked';
    this.blockedReason = reason;
    this.log.error({ reason }, 'blocked');
  }

  /** A failover or a move is under way. */
  get isBusy(): boolean {
    return this.inFlight !== undefined;
  }

  /** Fences a failed, empty standby (its exit seen) and boots a fresh one in its place. */
  private async replaceStandby(name: string): Promise<void> {
    const failed = this.vms.get(name);
    this.detectors.get(name)?.stop();
    if (failed !== undefined) {
      await failed.machine.shutdown({ timeoutMs: 500 });
      this.vms.delete(name);
      this.persistence?.changed();
    }
    await this.reprotect(name);
  }

  /** Boots a fresh standby `name` in the background; the pair is protected again once it is up. */
  private async reprotect(name: string): Promise<void> {
    this.log.warn({ vm: name }, 'booting a fresh standby');
    try {
      const fresh = await bootPairVm(this.config, name, 'standby', { accel: this.accel, log: this.log });
      if (this.state === 'stopped') {
        await fresh.machine.shutdown();
        return;
      }
      this.adopt(fresh);
      if (this.state === 'unprotected') this.currentState = 'protected';
    } catch (error) {
      this.log.error(
        { vm: name, err: (error as Error).message },
        're-protection failed: the pair stays unprotected',
      );
    }
  }

  /** Starts an app whose area the table already gives `vm` (plugging the same size again is no change). */
  private async restartApp(name: string, vm: PairVm): Promise<void> {
    const app = this.config.apps.find((a) => a.name === name);
    if (app === undefined) return;
    const area = this.table.areas.find((a) => a.name === appAreaName(app.name));
    if (area === undefined) {
      await this.startAppOnActive(name);
      return;
    }
    const disk = this.disks.get(app.name);
    const diskPortIndex = this.config.apps
      .filter((a) => a.diskBytes !== undefined)
      .findIndex((a) => a.name === app.name);
    const placed = await placeApp(vm, app, {
      mechanism: this.mechanism,
      sizeBytes: area.sizeBytes,
      diskPortIndex,
      healthTimeoutMs: this.config.healthTimeoutMs,
      // A move rolled back after its stop leaves the disk attached: that counts as attached.
      phase: (phaseName, work) =>
        phaseName === 'disk' && disk !== undefined
          ? ((() => attachDiskAgain(vm, disk, diskPortIndex))() as ReturnType<typeof work>)
          : work(),
      ...(disk === undefined ? {} : { disk }),
    });
    this.endpoints
      .get(app.name)
      ?.route({ host: '127.0.0.1', port: placed.hostPort, vm: vm.machine.spec.name });
    noteStarted(this.supervision, app.name);
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

  /** Takes a booted VM into the pair and arms its detectors. */
  adopt(vm: PairVm): void {
    this.vms.set(vm.machine.spec.name, vm);
    this.persistence?.changed();
    const name = vm.machine.spec.name;
    const fire = (signal: FailoverTrigger['signal']) => {
      if (this.vms.get(name) !== vm || this.state === 'stopped') return; // An old incarnation or a planned stop.
      void this.onFault({ vm: name, signal, detectedAtMs: performance.now() });
    };
    vm.machine.qmp.on('event', (event) => {
      if (event.event === 'GUEST_PANICKED') fire('GUEST_PANICKED');
    });
    vm.machine.qmp.on('close', () => fire('qmp-disconnect'));
    void vm.machine.exited.then(() => fire('qemu-exit'));
    this.detectors.get(name)?.stop();
    const detector = new HangDetector({
      ...machineProbes(vm.machine),
      log: this.log,
      ...(this.config.hangThresholds === undefined ? {} : { thresholds: this.config.hangThresholds }),
    });
    detector.on('hang', (hang) => {
      this.log.warn({ vm: name, signals: hang.signals, silenceMs: hang.silenceMs }, 'guest hang declared');
      fire('hang');
    });
    this.detectors.set(name, detector);
    detector.start();
    superviseVm(this, vm);
    serveMemRequests(this, vm);
  }

  /**
   * A detector fired. A fault of the active VM, or of a standby that runs apps moved to it alone,
   * fails that VM over to the other; a fault of an empty standby only costs us the standby, which
   * is fenced and booted afresh. During a switchover every fault is held until it ends; during
   * maintenance a failover (not an operator's request) is held until maintenance is off.
   */
  onFault(
    trigger: FailoverTrigger,
    options: { isOperatorRequest?: boolean } = {},
  ): Promise<FailoverRecord | undefined> {
    // During a switchover every fault waits for its end (its apps are on either VM until the commit).
    if (this.isSwitchingOver) return this.holdFault(trigger);
    if (this.inFlight !== undefined) return this.inFlight;
    if (trigger.vm !== this.roles.active && appAreasOf(this.table, trigger.vm).length === 0) {
      if (this.state === 'protected') {
        this.log.warn({ vm: trigger.vm, signal: trigger.signal }, 'standby lost; booting a fresh one');
        this.currentState = 'unprotected';
        this.reprotecting = this.replaceStandby(trigger.vm);
      }
      return Promise.resolve(undefined);
    }
    // Maintenance holds failovers; an empty standby is still replaced above (no failover, and rebooting it is the point).
    if (this.maintenance.isOn && options.isOperatorRequest !== true) return this.holdFault(trigger);
    // Unprotected (no standby yet) still fences the active; the failover then blocks with the reason.
    if (this.state !== 'protected' && this.state !== 'unprotected') return Promise.resolve(undefined);
    this.currentState = 'failing-over';
    this.inFlight = this.failOverVm(trigger).finally(() => {
      this.inFlight = undefined;
      this.inFlightId = undefined;
    });
    return this.inFlight;
  }

  private holdFault(trigger: FailoverTrigger): Promise<undefined> {
    this.maintenance.hold({
      vm: trigger.vm,
      signal: trigger.signal,
      reason: `${trigger.signal} on ${trigger.vm}`,
      detectedAtMs: trigger.detectedAtMs,
      heldAt: new Date().toISOString(),
    });
    return Promise.resolve(undefined);
  }

  /** Whole-VM failover, then re-protection in the background of the result (timed as `reprotect`). */
  private async failOverVm(trigger: FailoverTrigger): Promise<FailoverRecord> {
    const failed = this.vms.get(trigger.vm);
    const { record, outcome } = await failOverWholeVm(this, trigger, (id) => {
      this.inFlightId = id;
    });
    if (outcome !== 'succeeded') return record;
    this.currentState = 'unprotected';
    const startedAtMs = performance.now();
    if (failed !== undefined) await failed.machine.shutdown({ timeoutMs: 500 });
    await this.reprotect(trigger.vm);
    record.phases.push({ name: 'reprotect', ms: Math.round(performance.now() - startedAtMs) });
    this.persistence?.changed();
    return record;
  }

  /**
   * Moves a hot-standby app to the other VM (the standby, or back to the active). Refusals are
   * thrown before anything changes; otherwise resolves with the record, kept in `history`. A move
   * that had to give way fails the VM it left over, and the record points at that failover.
   */
  moveApp(appName: string, trigger: AppMoveTrigger): Promise<FailoverRecord> {
    let moving: ReturnType<typeof planMove>;
    try {
      moving = planMove(this, appName);
    } catch (refusal) {
      return Promise.reject(refusal);
    }
    this.currentState = 'failing-over';
    const run = (async () => {
      const outcome = await moveApp(this, moving, trigger, (id) => {
        this.inFlightId = id;
      });
      if (outcome.next === 'settled') this.currentState = 'protected';
      if (outcome.next === 'escalate' && outcome.fault !== undefined) {
        this.log.error({ signal: outcome.fault.signal }, 'app move escalated to a whole-VM failover');
        const whole = await this.failOverVm(outcome.fault);
        outcome.record.escalatedTo = whole.id;
        this.persistence?.changed();
      }
      return outcome;
    })();
    this.inFlight = run.then(
      (outcome) => outcome.record,
      (error: unknown) => {
        // The executor turns every failure of a step into a record; this is a defect, so stop acting.
        this.block(`moving ${appName} failed: ${(error as Error).message}`);
        throw error;
      },
    );
    const record = this.inFlight;
    void run
      .then((outcome) => {
        this.inFlight = undefined;
        this.inFlightId = undefined;
        if (outcome.next === 'settled' && outcome.fault !== undefined) void this.onFault(outcome.fault);
      })
      .catch(() => {
        this.inFlight = undefined;
        this.inFlightId = undefined;
      });
    return record;
  }

  /**
   * Planned switchover (switchover.ts): refusals thrown before anything changes; otherwise
   * resolves with the record, kept in `history`. Faults seen meanwhile are held and handed over
   * when it ends (unless maintenance is on).
   */
  switchOver(): Promise<FailoverRecord> {
    let plan: ReturnType<typeof checkSwitchover>;
    try {
      plan = checkSwitchover(this);
    } catch (refusal) {
      return Promise.reject(refusal);
    }
    this.currentState = 'failing-over';
    this.isSwitchingOver = true;
    const run = runSwitchover(this, plan, (id) => {
      this.inFlightId = id;
    }).then(
      async ({ record, outcome }) => {
        if (outcome === 'succeeded') {
          const phases = await moveOrdinaryApps(this, plan.from, (app) => this.startAppOnActive(app));
          record.phases.push(...phases);
          this.persistence?.changed();
        }
        if (outcome === 'succeeded' || outcome === 'rolled-back') this.currentState = 'protected';
        return record;
      },
      (error: unknown) => {
        this.block(`the switchover failed: ${(error as Error).message}`);
        throw error;
      },
    );
    this.inFlight = run.finally(() => {
      this.inFlight = undefined;
      this.inFlightId = undefined;
      this.isSwitchingOver = false;
      if (!this.maintenance.isOn) void releaseHeldFaults(this, this.maintenance.take());
    });
    return this.inFlight;
  }

  /** `baton maintenance on|off`, saved before it returns; switching off acts on the faults still standing. */
  async setMaintenance(isOn: boolean): Promise<void> {
    await this.maintenance.set(isOn);
    if (!isOn && !this.isSwitchingOver) void releaseHeldFaults(this, this.maintenance.take());
  }

  private async startAppOnActive(name: string): Promise<void> {
    const app = this.config.apps.find((a) => a.name === name);
    const vm = this.activeVm;
    if (app === undefined || vm === undefined)
      throw new Error(`startAppOnActive: unknown app ${name} or no active VM`);
    const disk = this.disks.get(app.name);
    // A hot-standby app's area is carved by the monitor and plugged before it starts; an ordinary
    // app starts on an empty slot and its agent asks for the memory (mem-requests.ts grants it).
    const isRequested = !app.hotStandby;
    const placed = await placeApp(vm, app, {
      mechanism: this.mechanism,
      sizeBytes: app.sizeBytes,
      diskPortIndex: this.config.apps
        .filter((a) => a.diskBytes !== undefined)
        .findIndex((a) => a.name === app.name),
      healthTimeoutMs: this.config.healthTimeoutMs,
      isMemoryRequestedByGuest: isRequested,
      ...(disk === undefined ? {} : { disk }),
    });
    if (!isRequested) {
      // Carved at commit from the table current then: a grant committed while the app started is kept.
      this.commitTable(
        (table) =>
          recordObserved(
            startApp(table, {
              app: app.name,
              vm: vm.machine.spec.name,
              sizeBytes: app.sizeBytes,
              hotStandby: app.hotStandby,
              slot: app.slot,
            }).table,
            {
              area: appAreaName(app.name),
              pluggedBytes: placed.pluggedBytes,
              atMs: performance.now(),
              by: 'qmp',
            },
          ).table,
      );
    }
    this.endpoints
      .get(app.name)
      ?.route({ host: '127.0.0.1', port: placed.hostPort, vm: vm.machine.spec.name });
    noteStarted(this.supervision, app.name);
  }

  /**
   * Stops protecting without stopping the VMs (`up --leave-running`): detectors, endpoints and the
   * channels close, QEMU and the apps run on, and the saved identities stay for the next daemon.
   */
  async leaveRunning(): Promise<void> {
    this.isLeftRunning = true;
    this.currentState = 'stopped';
    for (const detector of this.detectors.values()) detector.stop();
    await this.inFlight?.catch(() => undefined);
    await this.reprotecting;
    await this.persistence?.close();
    await Promise.all([...this.endpoints.values()].map((e) => e.close()));
    for (const vm of this.vms.values()) vm.machine.detach();
  }

  /** Stops the endpoints and both VMs (quit, then SIGKILL). */
  async stop(): Promise<void> {
    if (this.isLeftRunning) return;
    this.currentState = 'stopped';
    for (const detector of this.detectors.values()) detector.stop();
    await this.inFlight?.catch(() => undefined);
    await this.reprotecting;
    await Promise.all([...this.endpoints.values()].map((e) => e.close()));
    await Promise.all([...this.vms.values()].map((vm) => vm.machine.shutdown()));
    if (this.persistence !== undefined) {
      // Stopped on purpose: nothing is left to re-attach to.
      this.vms.clear();
      this.persistence.changed();
      await this.persistence.close();
    }
  }
}

/** Listens on the port the endpoint had before a restart, or on `fallback` when that one is taken. */
async function listenOnPreferred(
  endpoint: StableEndpoint,
  preferred: number | undefined,
  fallback: number,
): Promise<void> {
  if (preferred !== undefined && preferred !== 0) {
    try {
      await endpoint.listen(preferred);
      return;
    } catch {
      // Taken by someone else since: fall back to the configured port.
    }
  }
  await endpoint.listen(fallback);
}
