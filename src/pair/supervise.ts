// App supervision on the host (seed paragraph 0045): an app's exit goes through the lifecycle
// machine, then becomes a restart in place, a move of that app alone, or nothing; the policy decides, this file acts.
import type { AppExited } from '../agent/protocol.js';
import type { StableEndpoint } from '../endpoint/proxy.js';
import { WaitTimeoutError } from '../errors.js';
import type { AppMoveTrigger, FailoverTrigger } from '../failover/context.js';
import type { Reaction } from '../lifecycle/machine.js';
import type { Logger } from '../log.js';
import { type AppHistory, decide, EMPTY_HISTORY, startedHistory } from '../policy/restart.js';
import type { FailoverRecord } from '../state/history.js';
import { isConfigStartFailure, startAppAndAwaitReady } from './app-ready.js';
import type { AppConfig, PairConfig } from './config.js';
import type { DataDisk } from './disk.js';
import type { HeldFault } from './maintenance.js';
import type { PairState } from './pair-state.js';
import type { PairPersistence } from './persist.js';
import { appStartRequest } from './place-app.js';
import { runningApps } from './reattach.js';
import { stopApp } from './vm-actions.js';
import type { PairVm } from './vm-factory.js';

/** What supervision reads of the pair, and the two actions it may ask for. */
export interface SupervisedPair {
  readonly config: PairConfig;
  readonly log: Logger;
  readonly state: PairState;
  readonly supervision: Supervision;
  readonly endpoints: ReadonlyMap<string, StableEndpoint>;
  readonly disks: ReadonlyMap<string, DataDisk>;
  /** Journals each fault it sees (for `baton events`); absent in tests without a state dir. */
  readonly persistence: Pick<PairPersistence, 'noteFault'> | undefined;
  moveApp(app: string, trigger: AppMoveTrigger): Promise<FailoverRecord>;
  onFault(trigger: FailoverTrigger): Promise<FailoverRecord | undefined>;
  /** What the lifecycle machine says an app exit on `vm` leads to in the pair's state now (fault-handling.ts). */
  appExitReaction(vm: string): Reaction;
  /** Maintenance on: a move or whole-VM failover the policy asks for is held instead (restarts in place go on). */
  readonly maintenance?: { readonly isOn: boolean; hold(fault: HeldFault): void };
}

/** Per-app supervision state kept by the pair. */
export interface Supervision {
  histories: Map<string, AppHistory>;
  /** Restarts in place so far, per app (shown by `baton status`). */
  restarts: Map<string, number>;
  /** Apps whose last start failed because of their configuration, with the guest's reason (shown by `baton status`). */
  startFailures: Map<string, StartFailure>;
  /** App exits the machine kept (`join`: an operation under way; `hold`: blocked), looked at again once the policy may act. */
  kept: Map<string, KeptExit>;
}

/** An app exit seen while the policy could not act on it. */
export interface KeptExit {
  vm: PairVm;
  exited: ExitSeen;
  atMs: number;
}

/** A start the agent refused for a reason in the app's configuration: the app waits for the operator. */
export interface StartFailure {
  vm: string;
  /** The agent's error code (`spawn-failed`, `mount-failed`, `unit-not-found`, ...). */
  code: string;
  /** The guest's own words. */
  message: string;
}

export function createSupervision(): Supervision {
  return { histories: new Map(), restarts: new Map(), startFailures: new Map(), kept: new Map() };
}

/**
 * Records a configuration failure of a start: logged with the guest's reason, shown by `baton
 * status`; no restart, move or failover follows (another VM has the same configuration).
 */
export function noteStartFailure(
  pair: Pick<SupervisedPair, 'supervision' | 'log'>,
  app: string,
  vm: string,
  error: unknown,
): boolean {
  if (!isConfigStartFailure(error)) return false;
  const failure = { vm, code: error.agentCode, message: error.agentMessage };
  pair.supervision.startFailures.set(app, failure);
  pair.log.error({ app, ...failure }, 'app start failed (configuration); the app waits, the pair stays up');
  return true;
}

/** Marks `app` as (re)started now: the crash-loop rule counts quick failures from here. */
export function noteStarted(supervision: Supervision, app: string, nowMs = performance.now()): void {
  const previous = supervision.histories.get(app) ?? EMPTY_HISTORY;
  supervision.startFailures.delete(app);
  supervision.histories.set(app, { ...startedHistory(nowMs), restartsAtMs: previous.restartsAtMs });
}

/** Listens to `vm`'s agent for app exits and acts on the policy's decision. */
export function superviseVm(pair: SupervisedPair, vm: PairVm): void {
  vm.machine.agent.on('appExited', (exited, atMs) => {
    void onAppExited(pair, vm, exited, atMs).catch((error: unknown) => {
      pair.log.error({ app: exited.name, err: (error as Error).message }, 'acting on an app exit failed');
    });
  });
}

/** An app.exited, or a hang the host judged itself (a restart never ready: no pid). */
export type ExitSeen = Omit<AppExited, 'type' | 'pid'> & { pid?: number };

/**
 * An app exited on `vm`. Only an exit on the VM that serves the app counts (an app an operation
 * moves has its endpoint held: the operation's own steps see it); a stop we asked for is no fault.
 * The lifecycle machine says whether the policy may act now (`app-policy`); otherwise the exit is
 * journaled with the machine's reaction, and kept (`join`, `hold`) to be looked at again by
 * recheckKeptExits once the operation under way has ended.
 */
export async function onAppExited(
  pair: SupervisedPair,
  vm: PairVm,
  exited: ExitSeen,
  atMs: number,
): Promise<void> {
  const app = pair.config.apps.find((a) => a.name === exited.name);
  const owner = pair.endpoints.get(exited.name)?.currentTarget?.vm;
  if (app === undefined || owner !== vm.machine.spec.name || exited.severity === 'stopped') return;
  const supervision = pair.supervision;
  const severity =
    exited.severity ?? (exited.signal === null ? (exited.code === 0 ? 'clean' : 'failed') : 'killed');
  const reaction = pair.appExitReaction(vm.machine.spec.name);
  if (reaction !== 'app-policy') {
    // 'join' and 'hold' keep the exit; 'expected' (a planned stop), 'fail-start' (the start under
    // way fails by itself) and 'log' (no protected app there) have nothing more to do.
    pair.persistence?.noteFault({
      vm: vm.machine.spec.name,
      app: app.name,
      signal: severity,
      action: reaction,
    });
    pair.log.warn(
      { app: app.name, vm: vm.machine.spec.name, exited, reaction },
      'app exited; the policy acts later',
    );
    if (reaction === 'join' || reaction === 'hold') supervision.kept.set(app.name, { vm, exited, atMs });
    return;
  }
  supervision.kept.delete(app.name);
  const decision = decide({
    severity,
    app: { name: app.name, hotStandby: app.hotStandby },
    history: supervision.histories.get(app.name) ?? EMPTY_HISTORY,
    nowMs: atMs,
    ...(app.restart === undefined
      ? {}
      : { budget: { maxRestarts: app.restart.max, windowMs: app.restart.windowMs } }),
  });
  supervision.histories.set(app.name, decision.history);
  pair.persistence?.noteFault({
    vm: vm.machine.spec.name,
    app: app.name,
    signal: severity,
    action: decision.action,
  });
  pair.log.warn({ app: app.name, vm: vm.machine.spec.name, exited, decision }, 'app exited');
  if (decision.action === 'restart-in-place') await restartInPlace(pair, vm, app);
  else if ((decision.action === 'move-app' || decision.action === 'whole-vm') && pair.maintenance?.isOn) {
    pair.maintenance.hold({
      vm: vm.machine.spec.name,
      signal: 'app-exit',
      app: app.name,
      action: decision.action,
      reason: decision.reason,
      detectedAtMs: atMs,
      heldAt: new Date().toISOString(),
    });
  } else if (decision.action === 'move-app') {
    await pair.moveApp(app.name, { reason: decision.reason, detectedAtMs: atMs });
    noteStarted(supervision, app.name);
  } else if (decision.action === 'whole-vm')
    await pair.onFault({ vm: vm.machine.spec.name, signal: 'request', detectedAtMs: atMs });
}

/**
 * Once the operation an app exit joined has ended: each kept exit the policy may act on now goes
 * to it when its app still does not run on the VM that serves it (asked of the agent); one whose
 * app moved, or runs again, is over.
 */
export async function recheckKeptExits(pair: SupervisedPair): Promise<void> {
  for (const [name, kept] of [...pair.supervision.kept]) {
    const vmName = kept.vm.machine.spec.name;
    if (pair.appExitReaction(vmName) !== 'app-policy') continue; // Not yet: kept.
    pair.supervision.kept.delete(name);
    const isServedThere = pair.endpoints.get(name)?.currentTarget?.vm === vmName;
    const running = isServedThere ? await runningApps(kept.vm).catch(() => undefined) : undefined;
    if (!isServedThere || running?.has(name) === true) {
      pair.log.info({ app: name, vm: vmName }, 'kept app exit is over: the app moved or runs again');
      continue;
    }
    pair.log.warn({ app: name, vm: vmName }, 'acting on an app exit kept during an operation');
    await onAppExited(pair, kept.vm, kept.exited, kept.atMs);
  }
}

/** Starts the app again on the same VM, with the memory it already has: nothing is plugged or unplugged. */
async function restartInPlace(pair: SupervisedPair, vm: PairVm, app: AppConfig): Promise<void> {
  const disk = pair.disks.get(app.name);
  const node = vm.machine.spec.slots.findIndex((slot) => slot.id === app.slot) + 1;
  try {
    await startAppAndAwaitReady(vm, app, appStartRequest(app, node, disk), {
      healthTimeoutMs: pair.config.healthTimeoutMs,
      what: `${app.name} restarted on ${vm.machine.spec.name}`,
      phase: (_name, work) => work(),
    });
  } catch (error) {
    // A configuration failure is recorded and stops here: retrying or moving the app would fail the same way.
    if (noteStartFailure(pair, app.name, vm.machine.spec.name, error)) return;
    if (!(error instanceof WaitTimeoutError)) throw error;
    // Never ready within healthTimeoutMs: the agent counts failed checks only after a first pass, so
    // the host stops it (an exit it asked for, ignored above) and judges it like a hang.
    pair.log.warn(
      { app: app.name, vm: vm.machine.spec.name, err: error.message },
      'restarted app never ready',
    );
    await stopApp(vm, app.name);
    await onAppExited(
      pair,
      vm,
      { name: app.name, code: null, signal: null, severity: 'hang' },
      performance.now(),
    );
    return;
  }
  // The decision already recorded this start in the app's history (a quick failure after it counts).
  pair.supervision.restarts.set(app.name, (pair.supervision.restarts.get(app.name) ?? 0) + 1);
}
