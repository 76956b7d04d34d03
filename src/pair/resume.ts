// Finishing a whole-VM failover that a daemon crash interrupted, from the phase its journal reached.
import { Timeline } from '../failover/timeline.js';
import { addVirtioBlkDevice } from '../qmp/commands.js';
import { type InFlightOperation, planRecovery } from '../state/index.js';
import { indexOfStep } from '../state/operations.js';
import { appAreaName, failOver, findArea, type ResourceTable, recordObserved } from '../table/index.js';
import { spareRootPortId } from '../vm/spec.js';
import { attachDataDisk, type DataDisk } from './disk.js';
import type { Pair } from './pair.js';
import { runJournaledPhase, stepOf } from './persist.js';
import { placeApp } from './place-app.js';
import { runningApps } from './reattach.js';
import { noteStarted } from './supervise.js';
import type { PairVm } from './vm-factory.js';

/**
 * Whole-VM failover is only ever finished forward (planRecovery). The caller has re-attached
 * what still runs; `failed` is the old active if its QEMU is still ours and alive. Steps:
 *  1. fence again: the old QEMU is stopped now (its exit seen), or its absence was proven by
 *     the identity check (pid gone or reused), never taken from the record;
 *  2. every moving app is placed on the target again from the interrupted phase (phases are
 *     idempotent: the same size plugged is no change, an app the agent already runs is not
 *     started twice);
 *  3. commit: the table moves the apps to the target, which is the active from then on, and the
 *     operation closes.
 * Phases before the resume point run without new journal entries (they only re-check).
 */
export async function finishWholeVmFailover(
  pair: Pair,
  op: InFlightOperation,
  vms: { failed: PairVm | undefined; target: PairVm },
  progress: (line: string) => void,
): Promise<void> {
  const plan = planRecovery(op);
  const log = pair.log.child({ failoverId: op.id });
  log.warn({ plan }, `resuming an interrupted failover: ${plan.reason}`);
  progress(`resuming failover ${op.id} (${op.fromVm} → ${op.toVm}): ${plan.reason}`);
  const timeline = new Timeline({
    kind: 'whole-vm',
    trigger: `${op.trigger} (resumed after a daemon restart)`,
    fromVm: op.fromVm,
    toVm: op.toVm,
  });
  timeline.record.id = op.id;
  timeline.record.startedAt = op.startedAt;
  const resumeAt =
    plan.next.phase === 'close' ? Number.POSITIVE_INFINITY : indexOfStep(op, plan.next as never);
  const phase = <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const step = stepOf(name);
    const isPerApp = step !== undefined && step.phase !== 'fence' && step.phase !== 'commit';
    const onlyApp = op.apps.length === 1 ? op.apps[0] : undefined;
    const ref =
      isPerApp && step.app === undefined && onlyApp !== undefined
        ? { phase: step.phase, app: onlyApp }
        : step;
    const at = ref === undefined ? -1 : indexOfStep(op, ref);
    if (at >= 0 && at < resumeAt) return work();
    return runJournaledPhase(
      {
        persistence: pair.persistence,
        opId: op.id,
        name,
        isFaultInjectionAllowed: pair.config.isFaultInjectionAllowed,
        log,
        timed: (timedWork) => timeline.phase(name, timedWork),
      },
      work,
    );
  };
  pair.persistence?.operations.set(op.id, op);
  for (const app of pair.config.apps) pair.endpoints.get(app.name)?.hold();
  await phase('fence', async () => {
    if (vms.failed !== undefined) {
      log.warn({ vm: op.fromVm, pid: vms.failed.machine.pid }, 'the old active still runs: fencing it again');
      await vms.failed.machine.shutdown({ timeoutMs: 1000 });
    }
  });
  const { target } = vms;
  let table = isCommitted(pair.table, op) ? pair.table : failOver(pair.table, { failedVm: op.fromVm }).table;
  const running = await runningApps(target).catch(() => new Map<string, number>());
  for (const [index, name] of op.apps.entries()) {
    const app = pair.config.apps.find((a) => a.name === name);
    if (app === undefined) continue;
    const sizeBytes = table.areas.find((area) => area.name === appAreaName(name))?.sizeBytes ?? app.sizeBytes;
    const label = (phaseName: string) => (op.apps.length > 1 ? `${phaseName}:${name}` : phaseName);
    let pluggedBytes = sizeBytes;
    if (running.has(name)) {
      log.warn(
        { app: name, vm: target.machine.spec.name },
        `${name} already runs on the target: not started again`,
      );
    } else {
      const disk = pair.disks.get(name);
      const placed = await placeApp(target, app, {
        mechanism: pair.mechanism,
        sizeBytes,
        diskPortIndex: index,
        healthTimeoutMs: pair.config.healthTimeoutMs,
        phase: (phaseName, work) =>
          phase(
            label(phaseName),
            phaseName === 'disk' && disk !== undefined
              ? ((() => attachDiskAgain(target, disk, index)) as unknown as typeof work)
              : work,
          ),
        ...(disk === undefined ? {} : { disk }),
      });
      pluggedBytes = placed.pluggedBytes;
    }
    table = recordObserved(table, {
      area: appAreaName(name),
      pluggedBytes,
      atMs: performance.now(),
      by: 'qmp',
    }).table;
    pair.endpoints
      .get(name)
      ?.route({ host: '127.0.0.1', port: target.forwards.get(name) ?? 0, vm: target.machine.spec.name });
    noteStarted(pair.supervision, name);
  }
  await phase('commit', async () => {
    pair.table = table;
    pair.roles = { active: op.toVm, standby: op.fromVm };
    pair.vms.delete(op.fromVm);
  });
  const record = timeline.finish('succeeded');
  pair.history.push(record);
  pair.persistence?.changed();
  pair.persistence?.closeOperation(op.id, record.result);
  log.warn({ totalMs: record.totalMs, from: plan.next.phase }, 'interrupted failover finished');
}

/**
 * The disk phase run again: a crash may have come after `blockdev-add` or after `device_add`, so
 * a node or device that already exists counts as attached.
 */
export async function attachDiskAgain(target: PairVm, disk: DataDisk, portIndex: number): Promise<void> {
  try {
    await attachDataDisk(target.machine, disk, portIndex);
  } catch (error) {
    if (!/Duplicate/i.test((error as Error).message)) throw error;
    try {
      await addVirtioBlkDevice(target.machine.qmp, {
        deviceId: `blk-${disk.app}`,
        nodeName: `disk-${disk.app}`,
        serial: disk.serial,
        bus: spareRootPortId(portIndex),
      });
    } catch (again) {
      if (!/Duplicate|already/i.test((again as Error).message)) throw again;
    }
  }
}

/**
 * Whether the table already holds the failover's commit: the failed VM is no longer the active
 * and none of the moving apps is still its. (A failed standby that held moved apps keeps its role.)
 */
function isCommitted(table: ResourceTable, op: { fromVm: string; apps: readonly string[] }): boolean {
  if (table.roles.active === op.fromVm) return false;
  return op.apps.every((name) => findArea(table, appAreaName(name))?.user !== op.fromVm);
}
