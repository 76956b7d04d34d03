// The protected pair in action: start or take back, adopt VMs and arm their detectors, act on faults, run operations, stop (its facts: pair-core.ts).
import type { AppMoveTrigger, FailoverTrigger } from '../failover/context.js';
import type { LifecycleState, Reaction } from '../lifecycle/machine.js';
import type { QueuedFault } from '../lifecycle/queue.js';
import type { Logger } from '../log.js';
import type { MemoryMechanism } from '../memory/mechanism.js';
import type { AttachDoc } from '../recovery/identity.js';
import type { FailoverRecord } from '../state/history.js';
import type { StateDoc } from '../state/index.js';
import { resolveBootImage } from '../vm/image.js';
import type { Accel } from '../vm/spec.js';
import { restartAppOn, startAppOn } from './app-start.js';
import { bootBoth, openAppParts, startEveryApp } from './bring-up.js';
import type { PairConfig } from './config.js';
import { FaultHandling } from './fault-handling.js';
import { type Granted, GrantGate } from './grant.js';
import { releaseHeldFaults } from './held-faults.js';
import { serveMemRequests } from './mem-requests.js';
import { Operations } from './operations.js';
import { OrdinaryPlacer } from './ordinary-placer.js';
import { PairCore } from './pair-core.js';
import type { PairState } from './pair-state.js';
import type { PairPersistence } from './persist.js';
import { Reprotection } from './reprotect.js';
import { recheckKeptExits, superviseVm } from './supervise.js';
import { takeBack } from './take-back.js';
import type { PairVm } from './vm-factory.js';
import { watchVmSignals } from './vm-signals.js';

export type { FailoverTrigger } from '../failover/context.js';
export type { PairState } from './pair-state.js';

type StartOptions = {
  log: Logger;
  accel: Accel;
  mechanism: MemoryMechanism;
  onProgress?: (line: string) => void;
  persistence?: PairPersistence;
  saved?: StateDoc;
  attach?: AttachDoc;
};

/** Runs and protects the pair. Create with `Pair.start`; stop with `stop()`. */
export class Pair extends PairCore {
  /** Set by leaveRunning: a later stop() leaves the VMs alone. */
  private isLeftRunning = false;
  private readonly faults: FaultHandling;
  private readonly operations: Operations;
  private readonly ordinary: OrdinaryPlacer;
  private readonly standby: Reprotection;
  private readonly grants = new GrantGate();

  private constructor(config: PairConfig, options: StartOptions) {
    super(config, options);
    this.faults = new FaultHandling(this, {
      isStandbyBooting: () => this.standby.isBooting,
      isSwitchingOver: () => this.operations.isSwitchingOver,
      failOver: (trigger) => this.operations.failOver(trigger),
      replaceStandby: (vm) => {
        this.setState('unprotected');
        this.standby.replace(vm);
      },
      bootReplacement: () => this.standby.replace(this.roles.standby),
    });
    this.operations = new Operations({
      pair: this,
      setState: (next) => this.setState(next),
      reprotect: (vm) => this.standby.reprotect(vm),
      afterFailover: async () => {
        if (this.state === 'blocked') await this.forgetExitedVms();
        this.faults.scheduleDrain();
      },
      onFault: (trigger) => this.onFault(trigger),
      startAppOnActive: (app) => this.startAppOnActive(app),
      releaseHeld: (held) => releaseHeldFaults(this, held),
      isGranting: (app) => this.grants.isGranting(app),
      // App exits kept while it ran are looked at again (after the promise callbacks that end it).
      onEnded: () =>
        setImmediate(() =>
          recheckKeptExits(this).catch((error: Error) =>
            this.log.error({ err: error.message }, 'acting on a kept app exit failed'),
          ),
        ),
    });
    this.standby = new Reprotection(this, {
      isStopped: () => this.state === 'stopped',
      adoptStandby: (fresh) => {
        this.adopt(fresh);
        if (this.state === 'unprotected') this.setState('protected');
      },
      dropVm: (name) => this.dropVm(name),
      onBootSettled: () => this.faults.scheduleDrain(),
    });
    this.ordinary = new OrdinaryPlacer(this, {
      startOnActive: (app) => this.startAppOnActive(app),
      stopOnActive: async (app) => {
        await this.activeVm?.machine.agent.appStop(app, 10_000);
      },
    });
  }

  /** The pool may have grown: ordinary apps waiting for it are planned again. */
  protected tableChanged(): void {
    if (this.ordinary.waitingReasons.size > 0) this.ordinary.schedule();
  }

  /** A failover that committed (its hot-standby apps healthy) lets the ordinary apps start again. */
  protected stateChanged(previous: PairState, next: PairState): void {
    if (previous === 'failing-over' && (next === 'unprotected' || next === 'protected'))
      this.ordinary.schedule();
  }

  /** The failover under way, if any: a second signal joins it instead of starting another. */
  get inFlight(): Promise<FailoverRecord> | undefined {
    return this.operations.inFlight;
  }

  /** The id of the failover under way (set before its first phase), for idempotent requests. */
  get inFlightId(): string | undefined {
    return this.operations.inFlightId;
  }

  /** A failover or a move is under way. */
  get isBusy(): boolean {
    return this.inFlight !== undefined;
  }

  /** Why an app runs nowhere, by app, when the pair knows (`status` shows it). */
  get waitingReasons(): ReadonlyMap<string, string> {
    return this.ordinary.waitingReasons;
  }

  /** The faults waiting to be acted on, oldest first. */
  get queuedFaults(): readonly QueuedFault[] {
    return this.faults.queued;
  }

  /** The lifecycle state, derived from facts: the VMs that run, the operation under way, the boots. */
  lifecycleState(): LifecycleState {
    return this.faults.lifecycleState();
  }

  /** What the lifecycle machine says an app exit on `vm` leads to now (supervise.ts asks). */
  appExitReaction(vm: string): Reaction {
    return this.faults.reactionTo(vm, 'app-exit');
  }

  /**
   * Grows an app's memory from the pool: the one grant (grant.ts) for `baton request` and the
   * agents' mem.request. Refused (ConflictError) while an operation moves that app and has not
   * committed: its area changes owner at the commit, and a slot plugged on the VM it leaves would
   * outlive the move. A move or switchover of an app waits for its grant the same way.
   */
  grantMemory(request: { app: string; extraBytes: number; vm?: string }): Promise<Granted> {
    const isMoving = this.state === 'failing-over' && this.operations.isMoving(request.app);
    const by = this.inFlightId === undefined ? 'an operation' : `operation ${this.inFlightId}`;
    return this.grants.grant(
      this,
      request,
      isMoving ? `${by} moves it now; ask again once it is done` : undefined,
    );
  }

  /**
   * Re-attaches to the VMs a previous daemon left running (`saved` and `attach` from the state
   * directory) when both are still there and answer; otherwise boots both VMs in parallel, opens
   * the endpoints and starts every app on the active.
   */
  static async start(config: PairConfig, options: StartOptions): Promise<Pair> {
    const pair = new Pair(config, options);
    const progress = options.onProgress ?? (() => undefined);
    try {
      // A fresh boot checks the image before anything is created (a re-attach boots nothing).
      if (options.attach === undefined || options.attach.vms.length === 0)
        await resolveBootImage(config.image);
      await pair.maintenance.load();
      for (const { app, disk, endpoint } of await openAppParts(
        config,
        options.log,
        options.attach?.endpointPorts,
      )) {
        if (disk !== undefined) pair.disks.set(app, disk);
        pair.endpoints.set(app, endpoint);
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
      await bootBoth(config, pair.roles, options, (vm) => pair.adopt(vm));
      await startEveryApp(pair, (app) => pair.startAppOnActive(app), progress);
      pair.setState('protected');
      return pair;
    } catch (error) {
      await pair.stop();
      throw error;
    }
  }

  /** take-back.ts, then the pair's state from what was found; false when nothing could be taken back. */
  private async reattach(
    attach: AttachDoc,
    saved: StateDoc | undefined,
    progress: (line: string) => void,
  ): Promise<boolean> {
    const found = await takeBack(
      {
        pair: this,
        restore: (doc) => this.restore(doc),
        adopt: (vm) => this.adopt(vm),
        restartApp: (name, vm) => this.restartApp(name, vm),
      },
      attach,
      saved,
      progress,
    );
    if (found.outcome !== 'taken') return found.outcome === 'blocked';
    this.setState(found.isStandbyGone ? 'unprotected' : 'protected');
    if (found.fault !== undefined) void this.onFault(found.fault);
    else if (found.isStandbyGone) this.standby.bootInBackground(this.roles.standby);
    this.ordinary.schedule();
    progress(
      `re-attached to ${[...this.vms.values()].map((vm) => `${vm.machine.spec.name} (pid ${vm.machine.pid})`).join(' and ')} in ${Math.round(found.durationMs)} ms`,
    );
    return true;
  }

  /** Takes a booted VM into the pair and arms its detectors, its supervision and its memory requests. */
  adopt(vm: PairVm): void {
    const name = vm.machine.spec.name;
    this.vms.set(name, vm);
    this.persistence?.changed();
    this.detectors.get(name)?.stop();
    const detector = watchVmSignals(vm, {
      log: this.log,
      hangThresholds: this.config.hangThresholds,
      // An old incarnation or a planned stop is no fault.
      isCurrent: () => this.vms.get(name) === vm && this.state !== 'stopped',
      onSignal: (signal) => void this.onFault({ vm: name, signal, detectedAtMs: performance.now() }),
    });
    this.detectors.set(name, detector);
    superviseVm(this, vm);
    serveMemRequests(this, vm);
    this.faults.scheduleDrain(); // A standby ready: a queued fault of the serving VM can fail over now.
  }

  /** A detector fired: fault-handling.ts says what it means in the pair's state, and acts. */
  onFault(
    trigger: FailoverTrigger,
    options: { isOperatorRequest?: boolean } = {},
  ): Promise<FailoverRecord | undefined> {
    return this.faults.onFault(trigger, options);
  }

  /** Moves a hot-standby app to the other VM (operations.ts); refusals are thrown before anything changes. */
  moveApp(appName: string, trigger: AppMoveTrigger): Promise<FailoverRecord> {
    return this.operations.moveApp(appName, trigger);
  }

  /** Planned switchover (operations.ts); refusals are thrown before anything changes. */
  switchOver(): Promise<FailoverRecord> {
    return this.operations.switchOver();
  }

  /** `baton maintenance on|off`, saved before it returns; switching off acts on the faults still standing. */
  async setMaintenance(isOn: boolean): Promise<void> {
    await this.maintenance.set(isOn);
    if (!isOn && !this.operations.isSwitchingOver) void releaseHeldFaults(this, this.maintenance.take());
  }

  /** Starts `name` on the active (app-start.ts) and serves it from there. */
  private async startAppOnActive(name: string): Promise<void> {
    const vm = this.activeVm;
    this.serveFrom(name, vm, await startAppOn(this, name, vm));
  }

  /** Starts an app whose area the table gives `vm` (app-start.ts); one with no area starts as new on the active. */
  private async restartApp(name: string, vm: PairVm): Promise<void> {
    if (!this.config.apps.some((a) => a.name === name)) return;
    const hostPort = await restartAppOn(this, name, vm);
    if (hostPort === undefined) await this.startAppOnActive(name);
    else this.serveFrom(name, vm, hostPort);
  }

  /**
   * Stops protecting without stopping the VMs (`up --leave-running`): detectors, endpoints and the
   * channels close, QEMU and the apps run on, and the saved identities stay for the next daemon.
   */
  async leaveRunning(): Promise<void> {
    this.isLeftRunning = true;
    this.setState('stopped');
    for (const detector of this.detectors.values()) detector.stop();
    await this.inFlight?.catch(() => undefined);
    await this.standby.settled();
    await this.persistence?.close();
    await Promise.all([...this.endpoints.values()].map((e) => e.close()));
    for (const vm of this.vms.values()) vm.machine.detach();
  }

  /** Stops the endpoints and both VMs (quit, then SIGKILL). */
  async stop(): Promise<void> {
    if (this.isLeftRunning) return;
    this.setState('stopped');
    for (const detector of this.detectors.values()) detector.stop();
    await this.inFlight?.catch(() => undefined);
    await this.standby.settled();
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
