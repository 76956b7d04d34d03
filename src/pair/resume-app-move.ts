// Finishing or rolling back a single-app move that a daemon crash interrupted, from its journaled phase.
import { Timeline } from '../failover/timeline.js';
import { targetOf } from '../memory/mechanism.js';
import { queryPciBridges } from '../qmp/commands.js';
import { type InFlightOperation, planRecovery } from '../state/index.js';
import { indexOfStep } from '../state/operations.js';
import { appAreaName, findArea, moveApp, recordObserved } from '../table/index.js';
import { spareRootPortId } from '../vm/spec.js';
import { DISK_DETACH_TIMEOUT_MS, freeRootPort, stopApp } from './app-move.js';
import type { AppConfig } from './config.js';
import { detachDataDisk, diskDeviceIdOf } from './disk-detach.js';
import { waitForHealthy } from './health.js';
import type { Pair } from './pair.js';
import { runJournaledPhase, stepOf } from './persist.js';
import { type PhaseRunner, placeApp } from './place-app.js';
import { runningApps } from './reattach.js';
import { attachDiskAgain } from './resume.js';
import { noteStarted } from './supervise.js';
import type { PairVm } from './vm-factory.js';

export type AppMoveOutcome = 'finished' | 'rolled-back';

/**
 * The caller has re-attached both VMs (not yet serving). planRecovery decides:
 * - roll back (the move never got past `stop`): the app's memory and disk never left the source.
 *   The target is asked first and the app stopped there if it runs; the caller then starts it on
 *   the source unless its agent reports it running. The history gets a `failed` record.
 * - finish forward (from `unplug` on): every phase runs again in order. Those before the
 *   interrupted one only re-check (the source's agent is asked whether the app runs and it is
 *   stopped again if so; the slot's unplug and the disk's detach are idempotent), the interrupted
 *   one and those after are journaled as the first run was. An app the target already runs is
 *   not started twice. Throws when a step fails: the caller blocks the pair.
 */
export async function resumeAppMove(
  pair: Pair,
  op: InFlightOperation,
  progress: (line: string) => void,
): Promise<AppMoveOutcome> {
  const plan = planRecovery(op);
  const name = op.app ?? op.apps[0] ?? '';
  const app = pair.config.apps.find((a) => a.name === name);
  const source = pair.vms.get(op.fromVm);
  const target = pair.vms.get(op.toVm);
  const log = pair.log.child({ failoverId: op.id, app: name });
  log.warn({ plan }, `resuming an interrupted move of ${name}: ${plan.reason}`);
  progress(`resuming the move of ${name} ${op.id} (${op.fromVm} → ${op.toVm}): ${plan.reason}`);
  if (app === undefined) throw new Error(`the interrupted move ${op.id} names ${name}, not in the config`);
  if (source === undefined || target === undefined)
    throw new Error(`both VMs must run to resume the move of ${name} (${op.fromVm} → ${op.toVm})`);
  const timeline = new Timeline({
    kind: 'app',
    app: name,
    trigger: `${op.trigger} (resumed after a daemon restart)`,
    fromVm: op.fromVm,
    toVm: op.toVm,
  });
  timeline.record.id = op.id;
  timeline.record.startedAt = op.startedAt;
  pair.persistence?.operations.set(op.id, op);
  if (plan.action === 'roll-back') {
    await timeline.phase('stop', () => stopIfRunning(target, name, log));
    const error = new Error(`interrupted by a daemon restart; rolled back: ${name} stays on ${op.fromVm}`);
    finishRecord(pair, timeline, 'failed', error);
    return 'rolled-back';
  }
  const resumeAt =
    plan.next.phase === 'close' ? Number.POSITIVE_INFINITY : indexOfStep(op, plan.next as never);
  const phase: PhaseRunner = (phaseName, work) => {
    const step = stepOf(phaseName);
    const ref = step?.phase === 'commit' ? step : step === undefined ? undefined : { ...step, app: name };
    const at = ref === undefined ? -1 : indexOfStep(op, ref);
    if (at >= 0 && at < resumeAt) return work();
    return runJournaledPhase(
      {
        persistence: pair.persistence,
        opId: op.id,
        name: phaseName,
        isFaultInjectionAllowed: pair.config.isFaultInjectionAllowed,
        log,
        timed: (timedWork) => timeline.phase(phaseName, timedWork),
      },
      work,
    );
  };
  const disk = pair.disks.get(name);
  await phase('stop', () => stopIfRunning(source, name, log));
  await phase('unplug', () => pair.mechanism.unplug(targetOf(source.machine), app.slot));
  if (disk !== undefined)
    await phase('disk-detach', () => detachDataDisk(source.machine, disk, DISK_DETACH_TIMEOUT_MS));
  const sizeBytes = findArea(pair.table, appAreaName(name))?.sizeBytes ?? app.sizeBytes;
  const pluggedBytes = await placeOnTarget(pair, app, target, { sizeBytes, phase });
  await phase('commit', async () => {
    const area = findArea(pair.table, appAreaName(name));
    const moved =
      area?.user === op.toVm ? pair.table : moveApp(pair.table, { app: name, toVm: op.toVm }).table;
    pair.table = recordObserved(moved, {
      area: appAreaName(name),
      pluggedBytes,
      atMs: performance.now(),
      by: 'qmp',
    }).table;
  });
  noteStarted(pair.supervision, name);
  finishRecord(pair, timeline, 'succeeded');
  log.warn({ from: plan.next.phase }, `interrupted move finished: ${name} runs on ${op.toVm}`);
  return 'finished';
}

/** The place phases on the target; an app its agent already runs is only checked healthy. Returns the plugged size. */
async function placeOnTarget(
  pair: Pair,
  app: AppConfig,
  target: PairVm,
  options: { sizeBytes: number; phase: PhaseRunner },
): Promise<number> {
  const { phase } = options;
  const running = await runningApps(target);
  if (running.has(app.name)) {
    pair.log.warn({ app: app.name, vm: target.machine.spec.name }, `${app.name} already runs on the target`);
    const [slot] = await pair.mechanism.observe(targetOf(target.machine), app.slot);
    await phase('healthy', () =>
      waitForHealthy(target.forwards.get(app.name) ?? 0, {
        timeoutMs: pair.config.healthTimeoutMs,
        what: `${app.name} on ${target.machine.spec.name}`,
      }),
    );
    return slot?.pluggedBytes ?? 0;
  }
  const disk = pair.disks.get(app.name);
  const portIndex = disk === undefined ? 0 : await diskPortOf(target, app.name);
  const placed = await placeApp(target, app, {
    mechanism: pair.mechanism,
    sizeBytes: options.sizeBytes,
    diskPortIndex: portIndex,
    healthTimeoutMs: pair.config.healthTimeoutMs,
    // The disk phase run again: a node or device the first run added counts as attached.
    phase: (phaseName, work) =>
      phase(
        phaseName,
        phaseName === 'disk' && disk !== undefined
          ? ((() => attachDiskAgain(target, disk, portIndex)) as unknown as typeof work)
          : work,
      ),
    ...(disk === undefined ? {} : { disk }),
  });
  return placed.pluggedBytes;
}

/** The root port that holds the app's disk on `vm` already, else a free one. */
async function diskPortOf(vm: PairVm, app: string): Promise<number> {
  const bridges = await queryPciBridges(vm.machine.qmp);
  const count = vm.machine.spec.spareRootPorts ?? 0;
  for (let index = 0; index < count; index += 1) {
    const port = bridges.find((bridge) => bridge.bridgeId === spareRootPortId(index));
    if (port?.deviceIds.includes(diskDeviceIdOf(app))) return index;
  }
  return freeRootPort(vm, app);
}

/** Asks `vm`'s agent (never the record) whether `name` runs there, and stops it if so. */
async function stopIfRunning(vm: PairVm, name: string, log: Pair['log']): Promise<void> {
  const running = await runningApps(vm);
  if (!running.has(name)) return;
  log.warn({ vm: vm.machine.spec.name }, `${name} still runs on ${vm.machine.spec.name}: stopping it again`);
  await stopApp(vm, name);
}

function finishRecord(pair: Pair, timeline: Timeline, result: 'succeeded' | 'failed', error?: Error): void {
  const record = timeline.finish(result, error);
  pair.history.push(record);
  pair.persistence?.changed();
  pair.persistence?.closeOperation(record.id, record.result);
}
