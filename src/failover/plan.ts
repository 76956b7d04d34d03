// The failover planner, pure: (table, apps, trigger or journaled operation) → a plan value with its ordered steps and the table after.

import { type OperationPhase, PLACE_PHASES, RELEASE_PHASES } from '../state/phases.js';
import { planRecovery } from '../state/recovery.js';
import type { InFlightOperation, StepRef } from '../state/types.js';
import {
  appAreaName,
  appAreasOf,
  failOver,
  findArea,
  moveApp,
  type ResourceTable,
  recordObserved,
  switchOver,
} from '../table/index.js';

/** What the planner needs to know of a configured app. */
export interface PlanApp {
  readonly name: string;
  readonly hasDisk: boolean;
}

export interface PlanStep {
  readonly phase: OperationPhase;
  /** Set for the phases that act on one app. */
  readonly app?: string;
}

export type PlanKind = 'whole-vm' | 'app' | 'switchover';

export interface Plan {
  readonly kind: PlanKind;
  /** The VM the apps leave (the failed VM of a whole-VM failover). */
  readonly from: string;
  /** The VM the apps run on afterwards. */
  readonly to: string;
  /** The apps that move, in the order they are placed. */
  readonly apps: readonly string[];
  readonly steps: readonly PlanStep[];
  /** The table once the plan committed, as computed from the table it was planned on. */
  readonly tableAfter: ResourceTable;
  /**
   * Resume only: `finish` re-checks the steps before `resumeAt` (nothing journaled) and runs the
   * rest; `roll-back` runs nothing forward: the app's memory and disk never left `from`, or (with
   * `undos`) the operation was rolling back and these undos are left to run, in this order.
   */
  readonly resume?: {
    readonly action: 'finish' | 'roll-back';
    readonly resumeAt: number;
    readonly reason: string;
    readonly undos?: readonly StepRef[];
  };
}

/**
 * Whole-VM failover of `failedVm` (seed figure 5): fence it, place each of its hot-standby apps on
 * the other VM (disk only for apps that have one), commit. Ordinary apps' areas return to the pool.
 */
export function planWholeVm(
  table: ResourceTable,
  request: { failedVm: string; apps: readonly PlanApp[] },
): Plan {
  const { failedVm } = request;
  const to = failedVm === table.roles.active ? table.roles.standby : table.roles.active;
  const moving = request.apps.filter((app) =>
    appAreasOf(table, failedVm).some(
      (area) => area.name === appAreaName(app.name) && area.hotStandby === true,
    ),
  );
  return {
    kind: 'whole-vm',
    from: failedVm,
    to,
    apps: moving.map((app) => app.name),
    steps: [{ phase: 'fence' }, ...moving.flatMap((app) => perApp(PLACE_PHASES, app)), { phase: 'commit' }],
    tableAfter: failOver(table, { failedVm }).table,
  };
}

/**
 * Single-app move (seed figure 6) to `toVm`, either direction: stop, unplug and detach its disk on
 * the VM it runs on, place it on `toVm`, commit. Throws the table's refusal before anything is planned.
 */
export function planAppMove(table: ResourceTable, request: { app: PlanApp; toVm: string }): Plan {
  const { app, toVm } = request;
  const tableAfter = moveApp(table, { app: app.name, toVm }).table;
  const from = findArea(table, appAreaName(app.name))?.user ?? '';
  return {
    kind: 'app',
    from,
    to: toVm,
    apps: [app.name],
    steps: [...perApp(RELEASE_PHASES, app), ...perApp(PLACE_PHASES, app), { phase: 'commit' }],
    tableAfter,
  };
}

/**
 * The plan that finishes (or rolls back) `op`, interrupted by a daemon crash, on `table` (the
 * saved one: uncommitted unless the crash came after the commit). planRecovery decides the action.
 */
export function planResume(table: ResourceTable, op: InFlightOperation, apps: readonly PlanApp[]): Plan {
  const recovery = planRecovery(op);
  const byName = (name: string): PlanApp => apps.find((app) => app.name === name) ?? { name, hasDisk: false };
  const everyStep = (withDisk: boolean): PlanStep[] => {
    const of = (name: string) => (withDisk ? { name, hasDisk: true } : byName(name));
    return op.kind === 'whole-vm'
      ? [
          { phase: 'fence' },
          ...op.apps.flatMap((name) => perApp(PLACE_PHASES, of(name))),
          { phase: 'commit' },
        ]
      : [
          ...perApp(RELEASE_PHASES, of(op.apps[0] ?? '')),
          ...perApp(PLACE_PHASES, of(op.apps[0] ?? '')),
          { phase: 'commit' },
        ];
  };
  const steps = everyStep(false);
  // The journal lists optional phases too (stepsOf): resume at the first planned step at or after `next`.
  const journaled = everyStep(true);
  const next = recovery.next;
  const at = journaled.findIndex((step) => step.phase === next.phase && step.app === stepApp(op, next));
  const firstAfter = steps.findIndex((step) => journaled.findIndex((j) => sameStep(j, step)) >= at);
  const resumeAt = at === -1 || firstAfter === -1 ? steps.length : firstAfter;
  return {
    kind: op.kind,
    from: op.fromVm,
    to: op.toVm,
    apps: op.apps,
    steps,
    tableAfter: commitTable(table, { kind: op.kind, from: op.fromVm, to: op.toVm, apps: op.apps }),
    resume: {
      action: recovery.action,
      resumeAt,
      reason: recovery.reason,
      ...(recovery.undos === undefined ? {} : { undos: recovery.undos }),
    },
  };
}

/**
 * The commit as a function of the table current at commit time (so a grant committed meanwhile is
 * kept): the plan's move applied unless the table holds it already, then what QEMU reported plugged.
 */
export function commitTable(
  current: ResourceTable,
  plan: Pick<Plan, 'kind' | 'from' | 'to' | 'apps'>,
  pluggedBytes: ReadonlyMap<string, number> = new Map(),
  atMs = 0,
): ResourceTable {
  const isDone = plan.apps.every((name) => findArea(current, appAreaName(name))?.user !== plan.from);
  let table = current;
  if (plan.kind === 'whole-vm') {
    if (current.roles.active === plan.from || !isDone)
      table = failOver(current, { failedVm: plan.from }).table;
  } else if (plan.kind === 'switchover') {
    if (current.roles.active === plan.from) table = switchOver(current).table;
  } else if (!isDone) {
    table = moveApp(current, { app: plan.apps[0] ?? '', toVm: plan.to }).table;
  }
  for (const [app, bytes] of pluggedBytes) {
    table = recordObserved(table, { area: appAreaName(app), pluggedBytes: bytes, atMs, by: 'qmp' }).table;
  }
  return table;
}

/** `plug` or, when several apps move in one plan, `plug:kv`: the name journaled and timed. */
export function stepName(plan: Pick<Plan, 'apps'>, step: PlanStep): string {
  return step.app !== undefined && plan.apps.length > 1 ? `${step.phase}:${step.app}` : step.phase;
}

function perApp(list: readonly OperationPhase[], app: PlanApp): PlanStep[] {
  return list
    .filter((phase) => app.hasDisk || (phase !== 'disk' && phase !== 'disk-detach'))
    .map((phase) => ({ phase, app: app.name }));
}

function sameStep(a: PlanStep, b: PlanStep): boolean {
  return a.phase === b.phase && a.app === b.app;
}

/** The app of recovery's next step (a whole-VM failover of one app journals `plug`, not `plug:kv`). */
function stepApp(op: InFlightOperation, next: { phase: string; app?: string }): string | undefined {
  if (next.phase === 'fence' || next.phase === 'commit') return undefined;
  return next.app ?? op.apps[0];
}
