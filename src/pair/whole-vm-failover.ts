// Whole-VM failover (seed figure 5): fence the failed VM, hand its hot-standby apps to the other, re-protect.
import { isBatonError } from '../errors.js';
import { fenceMachine } from '../failover/fence.js';
import { Timeline } from '../failover/timeline.js';
import type { FailoverRecord } from '../state/history.js';
import { appAreaName, appAreasOf, failOver, recordObserved } from '../table/index.js';
import type { FailoverTrigger, Pair } from './pair.js';
import { runJournaledPhase } from './persist.js';
import { placeApp } from './place-app.js';
import { noteStarted } from './supervise.js';
import { bootPairVm } from './vm-factory.js';

/**
 * fence → (disk → plug → confirm → start → healthy) per hot-standby app → commit → reprotect.
 * The failed VM is the active, or the standby when it holds apps that were moved to it alone
 * (seed figure 6); the target is the other VM, which is the active afterwards.
 * Nothing starts on the target before the old QEMU's exit is seen; when it cannot be seen the
 * pair goes `blocked`. The table is committed only once every app runs on the target, so
 * until then each area keeps exactly one owner (the failed VM).
 */
export async function runWholeVmFailover(pair: Pair, trigger: FailoverTrigger): Promise<FailoverRecord> {
  const failedName = trigger.vm;
  const targetName = failedName === pair.roles.active ? pair.roles.standby : pair.roles.active;
  const timeline = new Timeline({
    kind: 'whole-vm',
    trigger: `${trigger.signal} on ${trigger.vm}`,
    fromVm: failedName,
    toVm: targetName,
    detectedAtMs: trigger.detectedAtMs,
  });
  pair.inFlightId = timeline.record.id;
  const log = pair.log.child({ failoverId: timeline.record.id });
  const opId = timeline.record.id;
  log.warn({ trigger }, 'whole-VM failover started');
  const failed = pair.vms.get(failedName);
  const target = pair.vms.get(targetName);
  const movingApps = pair.config.apps.filter((app) =>
    appAreasOf(pair.table, failedName).some(
      (area) => area.name === appAreaName(app.name) && area.hotStandby === true,
    ),
  );
  pair.persistence?.open({
    id: opId,
    kind: 'whole-vm',
    apps: movingApps.map((app) => app.name),
    fromVm: failedName,
    toVm: targetName,
    trigger: timeline.record.trigger,
    startedAt: timeline.record.startedAt,
  });
  // Each phase: intent journaled before it acts, result after (and a named crash point for tests).
  const phase = <T>(name: string, work: () => Promise<T>): Promise<T> =>
    runJournaledPhase(
      {
        persistence: pair.persistence,
        opId,
        name,
        isFaultInjectionAllowed: pair.config.isFaultInjectionAllowed,
        log,
        timed: (timedWork) => timeline.phase(name, timedWork),
      },
      work,
    );
  // Only the apps served by the failed VM lose their endpoint; an app already moved to the standby keeps serving.
  for (const app of pair.config.apps) {
    const endpoint = pair.endpoints.get(app.name);
    if (endpoint?.currentTarget?.vm === failedName) endpoint.hold();
  }
  pair.detectors.get(failedName)?.stop(); // Fencing pauses it: that is no news.
  try {
    if (failed !== undefined) {
      await phase('fence', () => fenceMachine(failed.machine, { log }));
    }
  } catch (error) {
    return block(pair, timeline, error as Error);
  }
  try {
    if (target === undefined || !target.machine.isRunning)
      throw new Error(
        `the ${targetName === pair.roles.standby ? 'standby' : 'active'} ${targetName} is not running, so ${movingApps.map((a) => a.name).join(', ')} cannot move`,
      );
    let table = failOver(pair.table, { failedVm: failedName }).table;
    for (const [index, app] of movingApps.entries()) {
      const disk = pair.disks.get(app.name);
      const sizeBytes =
        table.areas.find((area) => area.name === appAreaName(app.name))?.sizeBytes ?? app.sizeBytes;
      const placed = await placeApp(target, app, {
        mechanism: pair.mechanism,
        sizeBytes,
        diskPortIndex: index,
        healthTimeoutMs: pair.config.healthTimeoutMs,
        phase: (name, work) => phase(movingApps.length > 1 ? `${name}:${app.name}` : name, work),
        ...(disk === undefined ? {} : { disk }),
      });
      table = recordObserved(table, {
        area: appAreaName(app.name),
        pluggedBytes: placed.pluggedBytes,
        atMs: performance.now(),
        by: 'qmp',
      }).table;
      pair.endpoints.get(app.name)?.route({ host: '127.0.0.1', port: placed.hostPort, vm: targetName });
      noteStarted(pair.supervision, app.name);
    }
    await phase('commit', async () => {
      pair.table = table;
      pair.roles = { active: targetName, standby: failedName };
      pair.vms.delete(failedName);
    });
    pair.state = 'unprotected';
  } catch (error) {
    return block(pair, timeline, error as Error);
  }
  const record = timeline.finish('succeeded');
  pair.history.push(record);
  pair.persistence?.changed();
  pair.persistence?.closeOperation(opId, record.result);
  log.warn({ totalMs: record.totalMs, phases: record.phases }, 'whole-VM failover done; re-protecting');
  try {
    await timeline.phase('reprotect', async () => {
      if (failed !== undefined) await failed.machine.shutdown({ timeoutMs: 500 });
      const fresh = await bootPairVm(pair.config, failedName, 'standby', {
        accel: pair.accel,
        log: pair.log,
      });
      if (pair.state === 'stopped') {
        await fresh.machine.shutdown();
        return;
      }
      pair.adopt(fresh);
      pair.state = 'protected';
    });
  } catch (error) {
    log.error({ err: (error as Error).message }, 're-protection failed: the pair stays unprotected');
  }
  return record;
}

function block(pair: Pair, timeline: Timeline, error: Error): FailoverRecord {
  pair.state = 'blocked';
  pair.blockedReason = isBatonError(error) ? error.message : `failover failed: ${error.message}`;
  pair.log.error({ err: error.message }, 'failover blocked');
  const record = timeline.finish('blocked', error);
  pair.history.push(record);
  pair.persistence?.changed();
  pair.persistence?.closeOperation(record.id, record.result);
  return record;
}
