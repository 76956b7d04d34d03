// The planned switchover as a plan value: every hot-standby app of the active moved to the standby (no fence), then the roles swap.
import { APP_MOVE_PHASES } from '../state/phases.js';
import { appAreaName, appAreasOf, type ResourceTable, switchOver } from '../table/index.js';
import type { Plan, PlanApp, PlanStep } from './plan.js';

/**
 * Per hot-standby app of the active, in config order, the steps of a single-app move: stop,
 * unplug, disk-detach on the active, then disk, plug, confirm, start, healthy on the standby;
 * one commit at the end swaps the roles. No fence: the old active keeps running, its moved
 * apps' slots unplugged, as the new standby. Ordinary apps are not in the plan (they stay where
 * they run). Throws the table's refusal before anything is planned.
 */
export function planSwitchover(table: ResourceTable, request: { apps: readonly PlanApp[] }): Plan {
  const { active, standby } = table.roles;
  const onActive = appAreasOf(table, active);
  const moving = request.apps.filter((app) =>
    onActive.some((area) => area.name === appAreaName(app.name) && area.hotStandby === true),
  );
  const perApp = (app: PlanApp): PlanStep[] =>
    APP_MOVE_PHASES.filter(
      (phase) => phase !== 'commit' && (app.hasDisk || (phase !== 'disk' && phase !== 'disk-detach')),
    ).map((phase) => ({ phase, app: app.name }));
  return {
    kind: 'switchover',
    from: active,
    to: standby,
    apps: moving.map((app) => app.name),
    steps: [...moving.flatMap(perApp), { phase: 'commit' }],
    tableAfter: switchOver(table).table,
  };
}
