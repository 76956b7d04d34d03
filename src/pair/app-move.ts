// Moves one hot-standby app from the active VM to the standby while both run (seed figure 6, claims 4, 6, 9).
import {
  AgentError,
  AppMoveRefusedError,
  isBatonError,
  MemoryStuckError,
  VmFaultError,
  WaitTimeoutError,
} from '../errors.js';
import { Timeline } from '../failover/timeline.js';
import type { Logger } from '../log.js';
import { targetOf } from '../memory/mechanism.js';
import { queryPciBridges } from '../qmp/commands.js';
import type { FailoverRecord } from '../state/history.js';
import { appAreaName, findArea, moveApp, recordObserved } from '../table/index.js';
import { spareRootPortId } from '../vm/spec.js';
import type { AppConfig } from './config.js';
import { detachDataDisk } from './disk-detach.js';
import type { FailoverTrigger, Pair } from './pair.js';
import { journalTimeline } from './persist.js';
import { placeApp } from './place-app.js';
import type { PairVm } from './vm-factory.js';
import { runWholeVmFailover } from './whole-vm-failover.js';

export interface AppMoveTrigger {
  /** Why the app moves: the policy's reason (`decide(...).reason`) or the operator's request. */
  reason: string;
  /** When the fault was seen (host monotonic ms); the timeline's `detect` phase runs from here. */
  detectedAtMs?: number;
}

export const APP_STOP_TIMEOUT_MS = 10_000;
export const DISK_DETACH_TIMEOUT_MS = 20_000;

interface MovePlan {
  app: AppConfig;
  /** The app's area now: the size to plug on the standby (it may have grown from the pool). */
  sizeBytes: number;
  from: PairVm;
  to: PairVm;
}

/**
 * stop → unplug → disk-detach on the active, then disk → plug → confirm → start → healthy on the
 * standby, then commit: one timeline of kind `app`. The app is proven stopped twice: the agent's
 * reply to app.stop, then its slot's memory unplugged (a running app's memory could not be).
 * Other apps on the active are not touched and the roles do not swap.
 *
 * Rejects with AppMoveRefusedError or TableRequestError, before anything changed, when the pair
 * is not `protected`, a failover is under way, or the app is unknown, not on the active, or not a
 * hot-standby app (seed claim 8). Otherwise resolves with the record, also kept in `pair.history`:
 * - `failed`: nothing was changed (no free root port on the standby for the app's disk);
 * - `blocked`: the agent could not confirm the stop, or a later step failed; the pair goes
 *   `blocked` (as a whole-VM failover does) and nothing starts the app anywhere;
 * - `failed` with `escalatedTo`: the slot's unplug got stuck, or the active VM failed before the
 *   app was out of it, so the move gave way to a whole-VM failover (fencing proves the app stopped);
 * - `succeeded`. A fault of the active seen once the app was out of it is handed to the pair when
 *   the move is done, and fails over what is left.
 */
export async function moveAppToStandby(
  pair: Pair,
  appName: string,
  trigger: AppMoveTrigger,
): Promise<FailoverRecord> {
  const plan = planMove(pair, appName);
  pair.state = 'failing-over';
  const run = runMove(pair, plan, trigger).then(
    ({ record, missedFault }) => {
      pair.inFlight = undefined;
      pair.inFlightId = undefined;
      if (missedFault !== undefined) void pair.onFault(missedFault);
      return record;
    },
    (error: unknown) => {
      // runMove turns every failure of a step into a record; this is a defect, so stop the pair acting.
      pair.inFlight = undefined;
      pair.inFlightId = undefined;
      pair.state = 'blocked';
      pair.blockedReason = `moving ${appName} failed: ${(error as Error).message}`;
      throw error;
    },
  );
  pair.inFlight = run;
  return run;
}

/** The checks made before anything changes; throws the refusal. */
function planMove(pair: Pair, appName: string): MovePlan {
  const { active, standby } = pair.roles;
  const refuse = (detail: string): never => {
    throw new AppMoveRefusedError({ app: appName, toVm: standby, detail });
  };
  if (pair.inFlight !== undefined) refuse('a failover is under way');
  if (pair.state !== 'protected') refuse(`the pair is ${pair.state}, not protected`);
  const app = pair.config.apps.find((a) => a.name === appName);
  if (app === undefined) return refuse('no such app in the config');
  const area = findArea(pair.table, appAreaName(appName));
  if (area === undefined || area.user !== active) return refuse(`it does not run on the active VM ${active}`);
  if (area.hotStandby !== true) refuse('it is not a hot-standby app, only those move to the standby');
  moveApp(pair.table, { app: appName, toVm: standby }); // The table's own refusal, if any, before any change.
  const from = pair.vms.get(active);
  const to = pair.vms.get(standby);
  if (from === undefined || !from.machine.isRunning) return refuse(`the active VM ${active} is not running`);
  if (to === undefined || !to.machine.isRunning) return refuse(`the standby VM ${standby} is not running`);
  return { app, sizeBytes: area.sizeBytes, from, to };
}

async function runMove(
  pair: Pair,
  plan: MovePlan,
  trigger: AppMoveTrigger,
): Promise<{ record: FailoverRecord; missedFault?: FailoverTrigger }> {
  const { app, sizeBytes, from, to } = plan;
  const fromName = from.machine.spec.name;
  const toName = to.machine.spec.name;
  const timeline = new Timeline({
    kind: 'app',
    app: app.name,
    trigger: trigger.reason,
    fromVm: fromName,
    toVm: toName,
    ...(trigger.detectedAtMs === undefined ? {} : { detectedAtMs: trigger.detectedAtMs }),
  });
  pair.inFlightId = timeline.record.id;
  const log = pair.log.child({ failoverId: timeline.record.id, app: app.name });
  // Each phase journals its intent before it acts and its result after.
  closeOperations.set(
    timeline,
    journalTimeline(timeline, {
      persistence: pair.persistence,
      isFaultInjectionAllowed: pair.config.isFaultInjectionAllowed === true,
      log,
      operation: { kind: 'app', app: app.name, fromVm: fromName, toVm: toName },
    }),
  );
  log.warn({ trigger: trigger.reason, from: fromName, to: toName }, 'moving one app to the standby');
  const watch = watchForFault(pair, from, `the move of ${app.name}`);
  const disk = pair.disks.get(app.name);
  const endpoint = pair.endpoints.get(app.name);
  let stage: 'prepare' | 'release' | 'place' = 'prepare';
  let isUnplugStuck = false;
  try {
    const diskPortIndex = disk === undefined ? 0 : await watch.guard(freeRootPort(to, app.name));
    endpoint?.hold();
    stage = 'release';
    await timeline.phase('stop', () => watch.guard(stopApp(from, app.name)));
    await timeline.phase('unplug', async () => {
      try {
        return await watch.guard(pair.mechanism.unplug(targetOf(from.machine), app.slot));
      } catch (error) {
        isUnplugStuck = error instanceof MemoryStuckError || error instanceof WaitTimeoutError;
        throw error;
      }
    });
    if (disk !== undefined) {
      await timeline.phase('disk-detach', () =>
        watch.guard(detachDataDisk(from.machine, disk, DISK_DETACH_TIMEOUT_MS)),
      );
    }
    stage = 'place';
    const placed = await placeApp(to, app, {
      mechanism: pair.mechanism,
      sizeBytes,
      diskPortIndex,
      healthTimeoutMs: pair.config.healthTimeoutMs,
      phase: (name, work) => timeline.phase(name, work),
      ...(disk === undefined ? {} : { disk }),
    });
    await timeline.phase('commit', async () => {
      const moved = moveApp(pair.table, { app: app.name, toVm: toName }).table;
      pair.table = recordObserved(moved, {
        area: appAreaName(app.name),
        pluggedBytes: placed.pluggedBytes,
        atMs: performance.now(),
        by: 'qmp',
      }).table;
      endpoint?.route({ host: '127.0.0.1', port: placed.hostPort, vm: toName });
    });
  } catch (error) {
    watch.close();
    const fault = watch.fault;
    if (stage !== 'place' && (fault !== undefined || isUnplugStuck)) {
      return { record: await escalate(pair, timeline, log, error as Error, fault ?? stuckTrigger(fromName)) };
    }
    if (stage === 'prepare') {
      pair.state = 'protected';
      return { record: finish(pair, timeline, 'failed', error as Error) };
    }
    return { record: block(pair, timeline, log, app.name, error as Error) };
  }
  watch.close();
  pair.state = 'protected';
  const record = finish(pair, timeline, 'succeeded');
  log.warn({ totalMs: record.totalMs, phases: record.phases }, `${app.name} now runs on ${toName}`);
  return { record, ...(watch.fault === undefined ? {} : { missedFault: watch.fault }) };
}

/** Stops the app; one that already exited (the crash that triggered the move) counts as stopped. */
export async function stopApp(vm: PairVm, name: string): Promise<void> {
  try {
    await vm.machine.agent.appStop(name, APP_STOP_TIMEOUT_MS);
  } catch (error) {
    // The agent reaped it already, and unmounted its disk when it did.
    if (error instanceof AgentError && error.agentCode === 'not-running') return;
    throw error;
  }
}

/**
 * A free spare root port on `vm` for the app's disk, as QEMU reports it (`query-pci`). Taken from
 * the highest index down: a whole-VM failover places its apps' disks from index 0 up.
 */
export async function freeRootPort(vm: PairVm, app: string): Promise<number> {
  const count = vm.machine.spec.spareRootPorts ?? 0;
  const bridges = await queryPciBridges(vm.machine.qmp);
  for (let index = count - 1; index >= 0; index -= 1) {
    const port = bridges.find((bridge) => bridge.bridgeId === spareRootPortId(index));
    if (port?.deviceIds.length === 0) return index;
  }
  throw new AppMoveRefusedError({
    app,
    toVm: vm.machine.spec.name,
    detail: `no free root port for its data disk (${count} spare ports, none empty)`,
  });
}

interface FaultWatch {
  /** The first VM-level fault seen, if any. */
  readonly fault: FailoverTrigger | undefined;
  /** `work`, or a VmFaultError as soon as a fault is seen (the work is then abandoned). */
  guard<T>(work: Promise<T>): Promise<T>;
  close(): void;
}

/** Watches a VM for the signals Pair.adopt fails over on (the pair's own handling joins the move meanwhile). */
function watchForFault(pair: Pair, vm: PairVm, during: string): FaultWatch {
  const name = vm.machine.spec.name;
  let fault: FailoverTrigger | undefined;
  let isClosed = false;
  let fail: (error: Error) => void = () => undefined;
  const faulted = new Promise<never>((_resolve, reject) => {
    fail = reject;
  });
  // Seen only through guard(); a fault while nothing is guarded is read from `fault` instead.
  faulted.catch(() => undefined);
  const fire = (signal: FailoverTrigger['signal']) => {
    if (isClosed || fault !== undefined) return;
    fault = { vm: name, signal, detectedAtMs: performance.now() };
    fail(new VmFaultError({ vm: name, signal, during }));
  };
  const onEvent = (event: { event: string }) => {
    if (event.event === 'GUEST_PANICKED') fire('GUEST_PANICKED');
  };
  const onClose = () => fire('qmp-disconnect');
  const onHang = () => fire('hang');
  const detector = pair.detectors.get(name);
  vm.machine.qmp.on('event', onEvent);
  vm.machine.qmp.on('close', onClose);
  detector?.on('hang', onHang);
  void vm.machine.exited.then(() => fire('qemu-exit'));
  return {
    get fault() {
      return fault;
    },
    guard: (work) => {
      // When the fault wins the race, the abandoned work's own failure is expected: nobody waits for it.
      work.catch(() => undefined);
      return Promise.race([work, faulted]);
    },
    close: () => {
      isClosed = true;
      vm.machine.qmp.off('event', onEvent);
      vm.machine.qmp.off('close', onClose);
      detector?.off('hang', onHang);
    },
  };
}

/** A whole-VM failover asked for by the move itself: the active cannot give the app's memory back. */
function stuckTrigger(vm: string): FailoverTrigger {
  return { vm, signal: 'request', detectedAtMs: performance.now() };
}

/** Ends the move as `failed` and fails the whole active VM over; the record points at that failover. */
async function escalate(
  pair: Pair,
  timeline: Timeline,
  log: Logger,
  error: Error,
  fault: FailoverTrigger,
): Promise<FailoverRecord> {
  const record = finish(pair, timeline, 'failed', error);
  log.error({ err: error.message, signal: fault.signal }, 'app move escalated to a whole-VM failover');
  try {
    const whole = await runWholeVmFailover(pair, fault);
    record.escalatedTo = whole.id;
  } catch (wholeError) {
    block(pair, timeline, log, record.app ?? '', wholeError as Error);
  }
  return record;
}

/** Closes each move's in-flight operation once its record is final. */
const closeOperations = new WeakMap<Timeline, (result: string) => void>();

function finish(
  pair: Pair,
  timeline: Timeline,
  result: 'succeeded' | 'failed',
  error?: Error,
): FailoverRecord {
  const record = timeline.finish(result, error);
  pair.history.push(record);
  pair.persistence?.changed();
  closeOperations.get(timeline)?.(record.result);
  return record;
}

/** As a whole-VM failover blocks: the app was stopped and cannot be proven placed, so nothing starts it. */
function block(pair: Pair, timeline: Timeline, log: Logger, app: string, error: Error): FailoverRecord {
  pair.state = 'blocked';
  pair.blockedReason = isBatonError(error) ? error.message : `moving ${app} failed: ${error.message}`;
  log.error({ err: error.message }, 'app move blocked');
  if (timeline.record.result !== 'running') return timeline.record;
  const record = timeline.finish('blocked', error);
  closeOperations.get(timeline)?.(record.result);
  pair.history.push(record);
  pair.persistence?.changed();
  return record;
}
