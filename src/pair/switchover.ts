// Planned switchover: the refusals, then the plan run by the executor; every hot-standby app moves to the standby without a fence and the roles swap.
import { ConflictError } from '../errors.js';
import { type Execution, executePlan } from '../failover/executor.js';
import type { Plan } from '../failover/plan.js';
import { planSwitchover } from '../failover/switchover-plan.js';
import { targetOf } from '../memory/mechanism.js';
import type { PhaseRecord } from '../state/history.js';
import { appAreaName, findArea, type ResourceTable, returnToPool } from '../table/index.js';
import type { MoveHost } from './app-move.js';
import { failoverContext } from './failover-context.js';
import { freeRootPort, stopApp } from './vm-actions.js';
import { planAppsOf } from './whole-vm-failover.js';

export interface SwitchoverHost extends MoveHost {
  readonly blockedReason: string | undefined;
}

/**
 * The checks made before anything changes; throws ConflictError (exit 5) with the reason:
 * a failover or move under way, a pair that is not protected (unprotected, blocked, starting),
 * either VM not running, nothing to move.
 */
export function checkSwitchover(host: SwitchoverHost): Plan {
  const refuse = (detail: string): never => {
    throw new ConflictError(`Cannot switch over: ${detail}`);
  };
  if (host.isBusy) refuse('a failover is under way');
  if (host.state === 'blocked') refuse(`the pair is blocked (${host.blockedReason ?? 'no reason recorded'})`);
  if (host.state !== 'protected') refuse(`the pair is ${host.state}, not protected`);
  const { active, standby } = host.roles;
  for (const name of [active, standby])
    if (host.vms.get(name)?.machine.isRunning !== true) refuse(`${name} is not running`);
  const plan = planSwitchover(host.table, { apps: planAppsOf(host.config.apps, host.disks) });
  if (plan.apps.length === 0) refuse(`no hot-standby app runs on the active ${active}`);
  return plan;
}

/**
 * Runs `plan`: per app, its endpoint is held just before its stop (clients wait, nothing is
 * lost) and routed to the new active once it is healthy. A step that fails undoes every step
 * that ran, newest first: the apps already moved go back to the old active and the roles stay
 * (`failed`, the pair protected as before); a failing undo blocks the pair.
 */
export async function runSwitchover(
  host: MoveHost,
  plan: Plan,
  onStarted: (id: string) => void,
): Promise<Execution> {
  const ctx = failoverContext(host);
  const target = host.vms.get(plan.to);
  const guarded = {
    ...ctx,
    stopApp: async (vm: string, app: string) => {
      if (vm === plan.from) host.endpoints.get(app)?.hold();
      await ctx.stopApp(vm, app);
    },
  };
  host.log.warn({ from: plan.from, to: plan.to, apps: plan.apps }, 'switchover started');
  const execution = await executePlan(plan, guarded, {
    trigger: 'operator request (switchover)',
    onStarted,
    prepare: async () => {
      if (target === undefined) throw new Error(`${plan.to} is not running`);
      for (const app of plan.apps) if (host.disks.has(app)) await freeRootPort(target, app);
    },
  });
  host.log.warn(
    { failoverId: execution.record.id, totalMs: execution.record.totalMs, outcome: execution.outcome },
    'switchover ended',
  );
  return execution;
}

/** What moving the ordinary apps off the new standby needs of the pair. */
export interface OrdinaryHost {
  readonly config: MoveHost['config'];
  readonly log: MoveHost['log'];
  readonly vms: MoveHost['vms'];
  readonly endpoints: MoveHost['endpoints'];
  readonly mechanism: MoveHost['mechanism'];
  readonly table: ResourceTable;
  commitTable(change: (table: ResourceTable) => ResourceTable): ResourceTable;
}

/**
 * After the roles swapped, so the old active runs small: each ordinary app still on it is stopped
 * (its endpoint held), its slot unplugged and its area returned to the pool; then `startOnActive`
 * starts it on the new active, whose agent asks the pool for its memory as at boot. Ordinary apps
 * are not protected: they are down for their restart. One that fails is logged and left stopped
 * (`waiting` in status). Returns one phase per app (`ordinary:<app>`) for the record.
 */
export async function moveOrdinaryApps(
  host: OrdinaryHost,
  from: string,
  startOnActive: (app: string) => Promise<void>,
): Promise<PhaseRecord[]> {
  const phases: PhaseRecord[] = [];
  const vm = host.vms.get(from);
  for (const app of host.config.apps) {
    if (app.hotStandby || vm === undefined) continue;
    if (findArea(host.table, appAreaName(app.name))?.user !== from) continue;
    const startedAtMs = performance.now();
    try {
      host.endpoints.get(app.name)?.hold();
      await stopApp(vm, app.name);
      await host.mechanism.unplug(targetOf(vm.machine), app.slot);
      host.commitTable((table) => returnToPool(table, { app: app.name }).table);
      await startOnActive(app.name);
    } catch (error) {
      host.log.error(
        { app: app.name, err: (error as Error).message },
        `ordinary app ${app.name} could not be moved off ${from}: it stays stopped`,
      );
    }
    phases.push({ name: `ordinary:${app.name}`, ms: Math.round(performance.now() - startedAtMs) });
  }
  return phases;
}
