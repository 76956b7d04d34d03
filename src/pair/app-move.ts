// Moves one hot-standby app to the other VM while both run, either way (seed figure 6, claims 4, 6, 9), through the executor.
import { AppMoveRefusedError, MemoryStuckError, VmFaultError, WaitTimeoutError } from '../errors.js';
import type { AppMoveTrigger, FailoverTrigger } from '../failover/context.js';
import { executePlan } from '../failover/executor.js';
import { type Plan, planAppMove } from '../failover/plan.js';
import type { FailoverRecord } from '../state/history.js';
import { appAreaName, findArea } from '../table/index.js';
import { failoverContext } from './failover-context.js';
import type { PairState } from './pair-state.js';
import { freeRootPort } from './vm-actions.js';
import type { PairVm } from './vm-factory.js';
import type { WholeVmHost } from './whole-vm-failover.js';

export type { AppMoveTrigger } from '../failover/context.js';

export interface MoveHost extends WholeVmHost {
  readonly roles: { readonly active: string; readonly standby: string };
  readonly state: PairState;
  /** A failover or a move is under way. */
  readonly isBusy: boolean;
}

export interface MoveOutcome {
  record: FailoverRecord;
  /** `escalate`: the caller fails the VM the app left over (`fault` says why); `settled`: protected again. */
  next: 'settled' | 'blocked' | 'escalate';
  /** A fault of the VM the app left, seen once the app was out of it: the caller hands it to the pair. */
  fault?: FailoverTrigger;
}

/**
 * The checks made before anything changes; throws AppMoveRefusedError or the table's
 * TableRequestError. A hot-standby app moves from the VM it runs on to the other one: the
 * standby when it runs on the active, back to the active when it runs on the standby.
 */
export function planMove(host: MoveHost, appName: string): { plan: Plan; from: PairVm; to: PairVm } {
  const { active, standby } = host.roles;
  const area = findArea(host.table, appAreaName(appName));
  const toVm = area?.user === standby ? active : standby;
  const refuse = (detail: string): never => {
    throw new AppMoveRefusedError({ app: appName, toVm, detail });
  };
  if (host.isBusy) refuse('a failover is under way');
  if (host.state !== 'protected') refuse(`the pair is ${host.state}, not protected`);
  const app = host.config.apps.find((a) => a.name === appName);
  if (app === undefined) return refuse('no such app in the config');
  if (area === undefined || (area.user !== active && area.user !== standby)) return refuse('it does not run');
  if (area.hotStandby !== true) refuse('it is not a hot-standby app, only those move to the standby');
  // The table's own refusal, if any, before any change.
  const plan = planAppMove(host.table, { app: { name: app.name, hasDisk: host.disks.has(app.name) }, toVm });
  const from = host.vms.get(area.user);
  const to = host.vms.get(toVm);
  if (from === undefined || !from.machine.isRunning)
    return refuse(`the VM it runs on, ${area.user}, is not running`);
  if (to === undefined || !to.machine.isRunning) return refuse(`the VM ${toVm} is not running`);
  return { plan, from, to };
}

/**
 * stop → unplug → disk-detach on the VM the app leaves, then disk → plug → confirm → start →
 * healthy on the other, then commit. The app is proven stopped twice: the agent's reply to
 * app.stop, then its slot's memory unplugged. Other apps are not touched and the roles do not swap.
 * - no free root port for the disk: `failed`, nothing changed;
 * - a later step fails: the executor undoes what ran, the app serves where it was (`failed`); a
 *   failing stop, or a failing undo, blocks the pair;
 * - the slot's unplug got stuck, or the VM the app leaves failed before the app was out of it:
 *   `escalate` (the caller fences that VM with a whole-VM failover, which proves the app stopped).
 */
export async function moveApp(
  host: MoveHost,
  moving: { plan: Plan; from: PairVm; to: PairVm },
  trigger: AppMoveTrigger,
  onStarted: (id: string) => void,
): Promise<MoveOutcome> {
  const { plan, from, to } = moving;
  const app = plan.apps[0] ?? '';
  const watch = watchForFault(host, from, `the move of ${app}`);
  let isUnplugStuck = false;
  let isAppOut = false;
  const ctx = failoverContext(host);
  const guarded = {
    ...ctx,
    stopApp: (vm: string, name: string) =>
      vm === plan.from ? watch.guard(ctx.stopApp(vm, name)) : ctx.stopApp(vm, name),
    unplug: async (vm: string, name: string) => {
      if (vm !== plan.from) return ctx.unplug(vm, name);
      try {
        await watch.guard(ctx.unplug(vm, name));
      } catch (error) {
        isUnplugStuck = error instanceof MemoryStuckError || error instanceof WaitTimeoutError;
        throw error;
      }
    },
    detachDisk: async (vm: string, name: string) => {
      if (vm !== plan.from) return ctx.detachDisk(vm, name);
      await watch.guard(ctx.detachDisk(vm, name));
      isAppOut = true;
    },
    attachDisk: (vm: string, name: string, isRedo: boolean) => {
      if (vm === plan.to) isAppOut = true;
      return ctx.attachDisk(vm, name, isRedo);
    },
    plug: (vm: string, name: string, sizeBytes: number) => {
      if (vm === plan.to) isAppOut = true;
      return ctx.plug(vm, name, sizeBytes);
    },
  };
  host.log.warn({ app, trigger: trigger.reason, from: plan.from, to: plan.to }, `moving ${app}`);
  const execution = await executePlan(plan, guarded, {
    trigger: trigger.reason,
    ...(trigger.detectedAtMs === undefined ? {} : { detectedAtMs: trigger.detectedAtMs }),
    onStarted,
    prepare: async () => {
      if (host.disks.has(app)) await watch.guard(freeRootPort(to, app));
      host.endpoints.get(app)?.hold();
    },
    onStepFailed: (error) =>
      !isAppOut && (watch.fault !== undefined || isUnplugStuck || error instanceof VmFaultError)
        ? 'escalate'
        : 'undo',
  });
  watch.close();
  const { record, outcome } = execution;
  if (outcome === 'escalate')
    return {
      record,
      next: 'escalate',
      fault: watch.fault ?? { vm: plan.from, signal: 'request', detectedAtMs: performance.now() },
    };
  if (outcome === 'blocked') return { record, next: 'blocked' };
  if (outcome === 'succeeded') host.log.warn({ totalMs: record.totalMs }, `${app} now runs on ${plan.to}`);
  return { record, next: 'settled', ...(watch.fault === undefined ? {} : { fault: watch.fault }) };
}

interface FaultWatch {
  /** The first VM-level fault seen, if any. */
  readonly fault: FailoverTrigger | undefined;
  /** `work`, or a VmFaultError as soon as a fault is seen (the work is then abandoned). */
  guard<T>(work: Promise<T>): Promise<T>;
  close(): void;
}

/** Watches a VM for the signals the pair fails over on (the pair's own handling joins the move meanwhile). */
function watchForFault(host: MoveHost, vm: PairVm, during: string): FaultWatch {
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
  const detector = host.detectors.get(name);
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
