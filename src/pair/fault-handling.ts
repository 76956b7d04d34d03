// What the pair does with a fault signal: the lifecycle machine's reaction in the state derived from facts, and the queue of faults that wait for a standby.
import type { StableEndpoint } from '../endpoint/proxy.js';
import type { FailoverTrigger } from '../failover/context.js';
import { isCrashPoint } from '../failover/crash-point.js';
import {
  type FaultSignal,
  type LifecycleState,
  lifecycleStateOf,
  type Reaction,
  type Subject,
  transitionFor,
} from '../lifecycle/machine.js';
import type { QueuedFault } from '../lifecycle/queue.js';
import type { Logger } from '../log.js';
import type { FailoverRecord } from '../state/history.js';
import { appAreasOf, type ResourceTable } from '../table/index.js';
import { FAULT_SIGNAL_OF, FaultQueue } from './fault-queue.js';
import type { MaintenanceHold } from './maintenance.js';
import type { PairState } from './pair-state.js';
import type { PairPersistence } from './persist.js';
import type { PairVm } from './vm-factory.js';

/** What fault handling reads of the pair (read-only). */
export interface FaultView {
  readonly config: { readonly isFaultInjectionAllowed: boolean };
  readonly log: Logger;
  readonly maintenance: Pick<MaintenanceHold, 'isOn' | 'hold'>;
  readonly persistence: Pick<PairPersistence, 'noteFault' | 'operations'> | undefined;
  readonly state: PairState;
  readonly roles: { readonly active: string; readonly standby: string };
  readonly table: ResourceTable;
  readonly vms: ReadonlyMap<string, PairVm>;
  readonly endpoints: ReadonlyMap<string, StableEndpoint>;
  readonly standbyVm: PairVm | undefined;
  readonly inFlight: Promise<FailoverRecord> | undefined;
  readonly inFlightId: string | undefined;
}

/** The pair's facts fault handling cannot read from its fields, and the actions it asks of the pair. */
export interface FaultActions {
  isStandbyBooting(): boolean;
  isSwitchingOver(): boolean;
  /** Starts a whole-VM failover of the trigger's VM (the pair `failing-over`). */
  failOver(trigger: FailoverTrigger): Promise<FailoverRecord>;
  /** Fences the failed, empty standby `vm` and boots a fresh one; the pair is `unprotected` meanwhile. */
  replaceStandby(vm: string): void;
  /** Boots a fresh standby in place of the one that is not ready (a serving VM's fault waits for it). */
  bootReplacement(): void;
}

/** Acts on fault signals; keeps the faults that wait (`status` shows them). */
export class FaultHandling {
  private readonly view: FaultView;
  private readonly actions: FaultActions;
  private readonly queue: FaultQueue;

  constructor(view: FaultView, actions: FaultActions) {
    this.view = view;
    this.actions = actions;
    this.queue = new FaultQueue(view.log);
  }

  /** The faults waiting to be acted on, oldest first. */
  get queued(): readonly QueuedFault[] {
    return this.queue.queued;
  }

  /** The lifecycle state, derived from facts: the VMs that run, the operation under way, the boots. */
  lifecycleState(): LifecycleState {
    const pair = this.view;
    const isStandbyBooting = this.actions.isStandbyBooting();
    const kind = pair.persistence?.operations.get(pair.inFlightId ?? '')?.kind;
    return lifecycleStateOf({
      phase:
        pair.state === 'starting'
          ? 'starting'
          : pair.state === 'blocked'
            ? 'blocked'
            : pair.state === 'stopped'
              ? 'stopping'
              : 'running',
      operation: pair.state !== 'failing-over' ? undefined : kind === 'app' ? 'app-move' : 'whole-vm',
      // After a failover's commit its promise goes on with the re-protection boot.
      isStandbyBooting: isStandbyBooting || (pair.state === 'unprotected' && pair.inFlight !== undefined),
      // A standby that runs apps moved to it alone is still ready: a failover of the active lands there.
      // One being replaced is not, even before its exit is seen (QMP's close and the exit come apart).
      isStandbyReady: !isStandbyBooting && pair.standbyVm?.machine.isRunning === true,
    });
  }

  /** What the lifecycle machine says `signal` on `vm` leads to in the pair's state now. */
  reactionTo(vm: string, signal: FaultSignal): Reaction {
    return transitionFor(this.lifecycleState(), this.subjectOf(vm), signal).reaction;
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
    const pair = this.view;
    if (isCrashPoint('detect', pair.config.isFaultInjectionAllowed)) {
      // A test's crash point: the daemon dies between a fault's detection and any action on it.
      pair.log.error(
        { vm: trigger.vm, signal: trigger.signal },
        'fault point detect:crash: the daemon dies now',
      );
      process.kill(process.pid, 'SIGKILL');
    }
    // During a switchover every fault waits for its end (its apps are on either VM until the commit).
    if (this.actions.isSwitchingOver()) return this.hold(trigger);
    const subject = this.subjectOf(trigger.vm);
    const { reaction } = transitionFor(this.lifecycleState(), subject, FAULT_SIGNAL_OF[trigger.signal]);
    pair.log.warn({ vm: trigger.vm, signal: trigger.signal, subject, reaction }, 'fault signal');
    const note = (action: string) =>
      pair.persistence?.noteFault({ vm: trigger.vm, signal: trigger.signal, action });
    switch (reaction) {
      case 'fail-over':
        // Maintenance holds failovers; an empty standby is still replaced (rebooting it is the point).
        if (pair.maintenance.isOn && options.isOperatorRequest !== true) return this.hold(trigger);
        note('failover');
        return this.actions.failOver(trigger);
      case 'replace-standby':
        note('replace-standby');
        this.actions.replaceStandby(trigger.vm);
        return Promise.resolve(undefined);
      case 'queue':
      case 'queue-and-boot':
      case 'hold':
        note('queued');
        this.keep(trigger);
        if (reaction === 'queue-and-boot') this.actions.bootReplacement();
        return Promise.resolve(undefined);
      case 'join':
      case 'abort':
      case 'escalate':
        // The operation's own steps see this fault; it is kept to be looked at again when it ends.
        this.keep(trigger);
        return pair.inFlight ?? Promise.resolve(undefined);
      default:
        // 'expected', 'log', 'fail-start', 'app-policy': the stop, the start or the supervisor acts.
        return Promise.resolve(undefined);
    }
  }

  /** Looks at the queue once the current step is done (an operation ended, a standby was adopted). */
  scheduleDrain(): void {
    if (this.queue.queued.length > 0) setImmediate(() => this.drain());
  }

  /**
   * Acts on the oldest queued fault whose VM incarnation still serves, once nothing else runs and
   * a standby is ready (lifecycle/queue.ts); faults of VMs failed over or replaced since are done.
   */
  private drain(): void {
    const pair = this.view;
    if (pair.inFlight !== undefined || pair.state === 'stopped' || pair.state === 'blocked') return;
    const serving = [...pair.vms.values()]
      .filter((vm) => this.isServing(vm.machine.spec.name))
      .map((vm) => ({ vm: vm.machine.spec.name, pid: vm.machine.pid }));
    const next = this.queue.takeNext({ isStandbyReady: this.lifecycleState() === 'protected', serving });
    if (next !== undefined) void this.onFault(next);
  }

  /** Keeps `trigger` (one entry per VM incarnation) and holds the endpoints the failed VM served. */
  private keep(trigger: FailoverTrigger): void {
    this.queue.add(trigger, this.view.vms.get(trigger.vm)?.machine.pid ?? -1);
    for (const endpoint of this.view.endpoints.values())
      if (endpoint.currentTarget?.vm === trigger.vm) endpoint.hold(); // Clients wait instead of failing.
  }

  /** Held for the end of maintenance or of a switchover (maintenance.ts). */
  private hold(trigger: FailoverTrigger): Promise<undefined> {
    this.view.maintenance.hold({
      vm: trigger.vm,
      signal: trigger.signal,
      reason: `${trigger.signal} on ${trigger.vm}`,
      detectedAtMs: trigger.detectedAtMs,
      heldAt: new Date().toISOString(),
    });
    return Promise.resolve(undefined);
  }

  private isServing(vm: string): boolean {
    return vm === this.view.roles.active || appAreasOf(this.view.table, vm).length > 0;
  }

  private subjectOf(vm: string): Subject {
    return this.isServing(vm) ? 'serving' : 'spare';
  }
}
