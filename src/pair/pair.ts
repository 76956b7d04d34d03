// The protected pair: two VMs, the resource table, the apps' endpoints, and the detectors that trigger failover.
import { join } from 'node:path';
import { HangDetector } from '../detect/hang.js';
import { machineProbes } from '../detect/machine-probes.js';
import { StableEndpoint } from '../endpoint/proxy.js';
import { AgentError } from '../errors.js';
import type { FailoverContext, FailoverTrigger } from '../failover/context.js';
import { isCrashPoint } from '../failover/crash-point.js';
import { executePlan } from '../failover/executor.js';
import { planResume } from '../failover/plan.js';
import {
  type FaultSignal,
  type LifecycleState,
  lifecycleStateOf,
  type Subject,
  transitionFor,
} from '../lifecycle/machine.js';
import { planOrdinaryRestarts } from '../lifecycle/ordinary-apps.js';
import { enqueueFault, nextQueuedFault, type QueuedFault } from '../lifecycle/queue.js';
import type { Logger } from '../log.js';
import type { MemoryMechanism } from '../memory/mechanism.js';
import type { AttachDoc } from '../recovery/identity.js';
import type { FailoverKind, FailoverRecord } from '../state/history.js';
import type { InFlightOperation, StateDoc } from '../state/index.js';
import {
  appAreaName,
  appAreasOf,
  createTable,
  poolBytes,
  type ResourceTable,
  recordObserved,
  startApp,
} from '../table/index.js';
import { formatBytes } from '../units.js';
import { resolveBootImage } from '../vm/image.js';
import type { Accel } from '../vm/spec.js';
import { type AppMoveTrigger, moveApp, planMove } from './app-move.js';
import { isConfigStartFailure } from './app-ready.js';
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
import { createSupervision, noteStarted, noteStartFailure, superviseVm } from './supervise.js';
import { checkSwitchover, moveOrdinaryApps, runSwitchover } from './switchover.js';
import { attachDiskAgain } from './vm-actions.js';
import { bootPairVm, type PairVm } from './vm-factory.js';
import { failOverWholeVm, planAppsOf } from './whole-vm-failover.js';

export type { FailoverTrigger } from '../failover/context.js';
export type { PairState } from './pair-state.js';

/** The lifecycle machine's name for each detector's signal. */
const FAULT_SIGNAL_OF: Record<FailoverTrigger['signal'], FaultSignal> = {
  GUEST_PANICKED: 'panic',
  'qemu-exit': 'qemu-exit',
  'qmp-disconnect': 'qmp-loss',
  hang: 'hang',
  request: 'request',
};

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
  private stateNow: PairState = 'starting';
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
  /** Why an app runs nowhere, by app, when the pair knows (`status` shows it). */
  readonly waitingReasons = new Map<string, string>();
  /** Faults kept until they can be acted on (lifecycle/queue.ts); `status` shows them. */
  private faultQueue: readonly QueuedFault[] = [];
  private isPlacingOrdinaryApps = false;
  private isOrdinaryPlanStale = false;
  /** A fresh standby boots outside a failover (replaceStandby, or after a re-attach). */
  private isStandbyBooting = false;
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
    if (this.waitingReasons.size > 0) this.scheduleOrdinaryApps(); // The pool may have grown.
  }

  private get currentState(): PairState {
    return this.stateNow;
  }

  /** Every state change passes here: a failover that committed (its hot-standby apps healthy) lets the ordinary apps start again. */
  private set currentState(next: PairState) {
    const previous = this.stateNow;
    this.stateNow = next;
    if (previous === 'failing-over' && (next === 'unprotected' || next === 'protected'))
      this.scheduleOrdinaryApps();
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
      // A fresh boot checks the image before anything is created (a re-attach boots nothing).
      if (options.attach === undefined || options.attach.vms.length === 0)
        await resolveBootImage(config.image);
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
        await pair.startAppOnActive(app.name).catch((error: unknown) => {
          // A configuration failure leaves the app waiting (baton status shows why); the pair comes up.
          if (!noteStartFailure(pair, app.name, pair.roles.active, error)) throw error;
          progress(`${app.name} did not start: ${(error as AgentError).agentMessage}`);
        });
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
    const goneOf = (vm: string) => `${vm}: ${result.gone.get(vm) ?? 'not recorded'}`;
    const roles = saved?.table.roles;
    const problem =
      saved === undefined || roles === undefined
        ? 'no saved state'
        : op !== undefined
          ? byName.has(op.toVm)
            ? undefined
            : `the target of the interrupted failover ${op.id}, ${op.toVm}, is gone (${result.gone.get(op.toVm) ?? 'not recorded'})`
          : byName.has(roles.active) || byName.has(roles.standby)
            ? undefined
            : `no VM can be taken back (${goneOf(roles.active)}; ${goneOf(roles.standby)})`;
    if (problem !== undefined || saved === undefined) {
      progress(`cannot re-attach: ${problem}; booting a fresh pair`);
      this.log.warn({ problem }, 'cannot re-attach; booting a fresh pair');
      await Promise.all(result.vms.map((vm) => vm.machine.shutdown({ timeoutMs: 2000 })));
      return false;
    }
    if (saved.table.budgetBytes !== this.config.budgetBytes) {
      // The running pair's table is the truth: its budget stays until the pair is booted afresh.
      const line = `the config's budget (${formatBytes(this.config.budgetBytes)}) differs from the running pair's (${formatBytes(saved.table.budgetBytes)}): keeping the running pair's until it is booted afresh (baton down, then baton up)`;
      progress(line);
      this.log.warn({ configBytes: this.config.budgetBytes, savedBytes: saved.table.budgetBytes }, line);
    }
    // The active did not come back (exited, panicked, hung) while the standby did: that is the
    // fault it is, and the standby takes over as in any whole-VM failover (below, once adopted).
    const lostActive =
      op === undefined && !byName.has(saved.table.roles.active) ? saved.table.roles.active : undefined;
    this.currentRoles = { ...saved.table.roles };
    this.setTable(saved.table);
    this.history.push(...saved.history);
    const moves = saved.operations.filter((other) => other.kind === 'app');
    for (const other of op === undefined && lostActive === undefined ? [] : moves) {
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
      for (const move of lostActive === undefined ? moves : [])
        if (!(await this.resume(move, failoverContext(this), progress))) return true;
    }
    for (const vm of this.vms.values()) {
      const drift = await memoryDrift(this.table, vm, this.config.apps).catch((error: Error) => [
        `${vm.machine.spec.name}: query-memory-devices failed: ${error.message}`,
      ]);
      for (const line of drift)
        this.log.warn({ vm: vm.machine.spec.name }, `table drift after re-attach: ${line}`);
    }
    for (const app of this.config.apps) {
      const area = this.table.areas.find((a) => a.name === appAreaName(app.name));
      // An ordinary app whose VM failed has no area: it starts when the pool allows (placeOrdinaryApps).
      if (area === undefined && !app.hotStandby) continue;
      const owner = area?.user ?? this.roles.active;
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
    if (lostActive !== undefined) {
      const signal = result.faults.get(lostActive) ?? 'qemu-exit';
      progress(`the active ${goneOf(lostActive)}; failing over to ${this.roles.standby} (${signal})`);
      void this.onFault({ vm: lostActive, signal, detectedAtMs: performance.now() });
    } else if (standbyGone && appAreasOf(this.table, this.roles.standby).length > 0) {
      // The standby ran apps moved to it alone and died with the daemon: they fail over to the active.
      void this.onFault({ vm: this.roles.standby, signal: 'qemu-exit', detectedAtMs: performance.now() });
    } else if (standbyGone) this.bootStandby(this.reprotect(this.roles.standby));
    this.scheduleOrdinaryApps();
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
    let hasFired = false;
    const fire = (signal: FailoverTrigger['signal']) => {
      if (this.vms.get(name) !== vm || this.state === 'stopped') return; // An old incarnation or a planned stop.
      // One fault per incarnation: a dead QEMU closes QMP and exits, two signals of one fault that
      // would otherwise each replace the standby (two fresh QEMUs for one name).
      if (hasFired) return;
      hasFired = true;
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
    this.scheduleFaultDrain(); // A standby ready: a queued fault of the serving VM can fail over now.
  }

  /**
   * A detector fired: the lifecycle machine (lifecycle/machine.ts) says what that signal means in
   * the pair's state, for a VM that serves protected apps or a spare. A serving VM's fault fails
   * it over, or waits in the queue (shown by `status`) until a standby is ready; a spare's fault
   * costs the standby, which is fenced and booted afresh; a fault of a VM an operation works on
   * joins that operation and is looked at again when it ends. During a switchover every fault is
   * held until it ends; during maintenance a failover (not an operator's request) is held until
   * maintenance is off.
   */
  onFault(
    trigger: FailoverTrigger,
    options: { isOperatorRequest?: boolean } = {},
  ): Promise<FailoverRecord | undefined> {
    if (isCrashPoint('detect', this.config.isFaultInjectionAllowed)) {
      // A test's crash point: the daemon dies between a fault's detection and any action on it.
      this.log.error(
        { vm: trigger.vm, signal: trigger.signal },
        'fault point detect:crash: the daemon dies now',
      );
      process.kill(process.pid, 'SIGKILL');
    }
    // During a switchover every fault waits for its end (its apps are on either VM until the commit).
    if (this.isSwitchingOver) return this.holdFault(trigger);
    const subject = this.subjectOf(trigger.vm);
    const { reaction } = transitionFor(this.lifecycleState(), subject, FAULT_SIGNAL_OF[trigger.signal]);
    this.log.warn({ vm: trigger.vm, signal: trigger.signal, subject, reaction }, 'fault signal');
    switch (reaction) {
      case 'fail-over':
        // Maintenance holds failovers; an empty standby is still replaced (rebooting it is the point).
        if (this.maintenance.isOn && options.isOperatorRequest !== true) return this.holdFault(trigger);
        this.persistence?.noteFault({ vm: trigger.vm, signal: trigger.signal, action: 'failover' });
        this.currentState = 'failing-over';
        this.inFlight = this.failOverVm(trigger).finally(async () => {
          this.inFlight = undefined;
          this.inFlightId = undefined;
          if (this.state === 'blocked') await this.forgetExitedVms();
          this.scheduleFaultDrain();
        });
        return this.inFlight;
      case 'replace-standby':
        this.persistence?.noteFault({ vm: trigger.vm, signal: trigger.signal, action: 'replace-standby' });
        this.currentState = 'unprotected';
        this.bootStandby(this.replaceStandby(trigger.vm));
        return Promise.resolve(undefined);
      case 'queue':
      case 'queue-and-boot':
      case 'hold':
        this.persistence?.noteFault({ vm: trigger.vm, signal: trigger.signal, action: 'queued' });
        this.queueFault(trigger);
        if (reaction === 'queue-and-boot') this.bootStandby(this.replaceStandby(this.roles.standby));
        return Promise.resolve(undefined);
      case 'join':
      case 'abort':
      case 'escalate':
        // The operation's own steps see this fault; it is kept to be looked at again when it ends.
        this.queueFault(trigger);
        return this.inFlight ?? Promise.resolve(undefined);
      default:
        // 'expected', 'log', 'fail-start', 'app-policy': the stop, the start or the supervisor acts.
        return Promise.resolve(undefined);
    }
  }

  /** The faults waiting to be acted on, oldest first. */
  get queuedFaults(): readonly QueuedFault[] {
    return this.faultQueue;
  }

  /** The lifecycle state, derived from facts: the VMs that run, the operation under way, the boots. */
  lifecycleState(): LifecycleState {
    const standby = this.standbyVm;
    const kind = this.persistence?.operations.get(this.inFlightId ?? '')?.kind;
    return lifecycleStateOf({
      phase:
        this.state === 'starting'
          ? 'starting'
          : this.state === 'blocked'
            ? 'blocked'
            : this.state === 'stopped'
              ? 'stopping'
              : 'running',
      operation: this.state !== 'failing-over' ? undefined : kind === 'app' ? 'app-move' : 'whole-vm',
      // After a failover's commit its promise goes on with the re-protection boot.
      isStandbyBooting:
        this.isStandbyBooting || (this.state === 'unprotected' && this.inFlight !== undefined),
      // A standby that runs apps moved to it alone is still ready: a failover of the active lands there.
      // One being replaced is not, even before its exit is seen (QMP's close and the exit come apart).
      isStandbyReady: !this.isStandbyBooting && standby?.machine.isRunning === true,
    });
  }

  private isServing(vm: string): boolean {
    return vm === this.roles.active || appAreasOf(this.table, vm).length > 0;
  }

  private subjectOf(vm: string): Subject {
    return this.isServing(vm) ? 'serving' : 'spare';
  }

  /** Keeps `trigger` (one entry per VM incarnation) and holds the endpoints the failed VM served. */
  private queueFault(trigger: FailoverTrigger): void {
    const vm = this.vms.get(trigger.vm);
    const fault: QueuedFault = {
      vm: trigger.vm,
      pid: vm?.machine.pid ?? -1,
      signal: FAULT_SIGNAL_OF[trigger.signal],
      detectedAtMs: trigger.detectedAtMs,
    };
    const before = this.faultQueue;
    this.faultQueue = enqueueFault(before, fault);
    if (this.faultQueue !== before) this.log.warn({ ...fault }, 'fault queued until it can be acted on');
    for (const endpoint of this.endpoints.values())
      if (endpoint.currentTarget?.vm === trigger.vm) endpoint.hold(); // Clients wait instead of failing.
  }

  /** Looks at the queue once the current step is done (an operation ended, a standby was adopted). */
  private scheduleFaultDrain(): void {
    if (this.faultQueue.length > 0) setImmediate(() => this.drainFaults());
  }

  /**
   * Acts on the oldest queued fault whose VM incarnation still serves, once nothing else runs and
   * a standby is ready (lifecycle/queue.ts); faults of VMs failed over or replaced since are done.
   */
  private drainFaults(): void {
    if (this.inFlight !== undefined || this.state === 'stopped' || this.state === 'blocked') return;
    const serving = [...this.vms.values()]
      .filter((vm) => this.isServing(vm.machine.spec.name))
      .map((vm) => ({ vm: vm.machine.spec.name, pid: vm.machine.pid }));
    const next = nextQueuedFault(this.faultQueue, {
      isStandbyReady: this.lifecycleState() === 'protected',
      serving,
    });
    for (const done of next.done) this.log.info({ ...done }, 'queued fault done: that VM was replaced');
    this.faultQueue = next.rest;
    if (next.fault === undefined) return;
    const { vm, signal, detectedAtMs } = next.fault;
    const trigger = (Object.keys(FAULT_SIGNAL_OF) as FailoverTrigger['signal'][]).find(
      (key) => FAULT_SIGNAL_OF[key] === signal,
    );
    this.log.warn({ vm, signal }, 'acting on a queued fault now that a standby is ready');
    void this.onFault({ vm, signal: trigger ?? 'request', detectedAtMs });
  }

  /**
   * Blocked with QEMUs that exited (both VMs died in a failover): they run nothing and never will,
   * so they leave the pair and vms.json, and their run directories go; the table keeps their
   * areas (one owner each) until an operator acts, as `blocked` says.
   */
  private async forgetExitedVms(): Promise<void> {
    for (const [name, vm] of [...this.vms]) {
      if (vm.machine.isRunning) continue;
      this.detectors.get(name)?.stop();
      this.vms.delete(name);
      await vm.machine.shutdown({ timeoutMs: 500 }).catch(() => undefined);
      this.log.warn({ vm: name, pid: vm.machine.pid }, 'blocked: the exited VM leaves the pair');
    }
    this.persistence?.changed();
  }

  /** Plans the ordinary apps again once the current step is done (one run at a time). */
  private scheduleOrdinaryApps(): void {
    if (this.isPlacingOrdinaryApps) {
      this.isOrdinaryPlanStale = true;
      return;
    }
    this.isPlacingOrdinaryApps = true;
    setImmediate(() => {
      void this.placeOrdinaryApps()
        .catch((error: Error) => this.log.error({ err: error.message }, 'placing ordinary apps failed'))
        .finally(() => {
          this.isPlacingOrdinaryApps = false;
          if (this.isOrdinaryPlanStale) {
            this.isOrdinaryPlanStale = false;
            this.scheduleOrdinaryApps();
          }
        });
    });
  }

  /**
   * Starts on the active each ordinary app that runs nowhere while the pool can grant its size;
   * the others wait with the numbers in `status` (lifecycle/ordinary-apps.ts). Only while the pair
   * is protected or unprotected with its active running (never during a failover or when blocked).
   */
  private async placeOrdinaryApps(): Promise<void> {
    if (this.state !== 'protected' && this.state !== 'unprotected') return;
    if (this.activeVm?.machine.isRunning !== true) return;
    const steps = planOrdinaryRestarts(
      this.config.apps.map((app) => ({
        name: app.name,
        hotStandby: app.hotStandby,
        sizeBytes: app.sizeBytes,
        isPlaced:
          this.endpoints.get(app.name)?.currentTarget !== undefined ||
          this.table.areas.some((a) => a.name === appAreaName(app.name)),
      })),
      { poolBytes: poolBytes(this.table), blockBytes: this.table.blockBytes },
    );
    for (const step of steps) {
      if (step.action === 'wait') {
        this.waitingReasons.set(step.app, step.reason);
        this.log.warn({ app: step.app, reason: step.reason }, 'ordinary app waits for the pool');
        continue;
      }
      this.waitingReasons.delete(step.app);
      this.log.warn({ app: step.app, vm: this.roles.active }, 'starting an ordinary app on the active');
      try {
        await this.startAppOnActive(step.app).catch(async (error: unknown) => {
          // Started by a daemon that died before it recorded the start: the agent still runs it,
          // unknown to this daemon's table and endpoint. Stop that copy and start it again, known.
          if (!(error instanceof AgentError) || error.agentCode !== 'already-running') throw error;
          this.log.warn({ app: step.app }, 'an ordinary app runs unrecorded on the active: restarting it');
          await this.activeVm?.machine.agent.appStop(step.app, 10_000);
          await this.startAppOnActive(step.app);
        });
      } catch (error) {
        this.waitingReasons.set(
          step.app,
          `starting it on ${this.roles.active} failed: ${(error as Error).message}`,
        );
      }
    }
  }

  /** Runs a standby boot in the background; stop() waits for it. */
  private bootStandby(boot: Promise<void>): void {
    this.isStandbyBooting = true;
    this.reprotecting = boot.finally(() => {
      this.isStandbyBooting = false;
      this.scheduleFaultDrain();
    });
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
    // Carved at commit from the table current then: a grant committed while the app started is kept.
    const commitStarted = (pluggedBytes: number) =>
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
            { area: appAreaName(app.name), pluggedBytes, atMs: performance.now(), by: 'qmp' },
          ).table,
      );
    const placed = await placeApp(vm, app, {
      mechanism: this.mechanism,
      sizeBytes: app.sizeBytes,
      diskPortIndex: this.config.apps
        .filter((a) => a.diskBytes !== undefined)
        .findIndex((a) => a.name === app.name),
      healthTimeoutMs: this.config.healthTimeoutMs,
      isMemoryRequestedByGuest: isRequested,
      ...(disk === undefined ? {} : { disk }),
    }).catch((error: unknown) => {
      // The agent refused the app after its memory was plugged: the table records the area as QEMU has it.
      if (!isRequested && isConfigStartFailure(error)) commitStarted(app.sizeBytes);
      throw error;
    });
    if (!isRequested) commitStarted(placed.pluggedBytes);
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
