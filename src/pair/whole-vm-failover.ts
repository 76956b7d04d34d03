// Whole-VM failover (seed figure 5): plans the hand-off of the failed VM's hot-standby apps and runs it through the executor.

import type { HangDetector } from '../detect/hang.js';
import type { FailoverTrigger } from '../failover/context.js';
import { type Execution, executePlan } from '../failover/executor.js';
import { type PlanApp, planWholeVm } from '../failover/plan.js';
import type { AppConfig } from './config.js';
import type { DataDisk } from './disk.js';
import { type ContextHost, failoverContext } from './failover-context.js';

export interface WholeVmHost extends ContextHost {
  readonly detectors: ReadonlyMap<string, HangDetector>;
}

/**
 * fence → (disk → plug → confirm → start → healthy) per hot-standby app → commit. The failed VM
 * is the active, or the standby when it holds apps that were moved to it alone (seed figure 6);
 * the target is the other VM, which is the active afterwards. Nothing starts on the target before
 * the old QEMU's exit is seen (the fence); when it cannot be seen the pair goes `blocked`. The
 * table is committed only once every app runs on the target, so until then each area keeps
 * exactly one owner (the failed VM); a step that fails undoes what the target got and blocks.
 * Re-protection is the caller's.
 */
export async function failOverWholeVm(
  host: WholeVmHost,
  trigger: FailoverTrigger,
  onStarted: (id: string) => void,
): Promise<Execution> {
  const plan = planWholeVm(host.table, {
    failedVm: trigger.vm,
    apps: planAppsOf(host.config.apps, host.disks),
  });
  // Only the apps served by the failed VM lose their endpoint; an app already moved to the standby keeps serving.
  for (const endpoint of host.endpoints.values())
    if (endpoint.currentTarget?.vm === trigger.vm) endpoint.hold();
  host.detectors.get(trigger.vm)?.stop(); // Fencing pauses it: that is no news.
  host.log.warn({ trigger, plan: plan.steps.length }, 'whole-VM failover started');
  const execution = await executePlan(plan, failoverContext(host), {
    trigger: `${trigger.signal} on ${trigger.vm}`,
    detectedAtMs: trigger.detectedAtMs,
    onStarted,
  });
  const { record } = execution;
  host.log.warn(
    { failoverId: record.id, totalMs: record.totalMs, result: record.result },
    'whole-VM failover ended',
  );
  return execution;
}

/** What the planner knows of the configured apps, in config order. */
export function planAppsOf(apps: readonly AppConfig[], disks: ReadonlyMap<string, DataDisk>): PlanApp[] {
  return apps.map((app) => ({ name: app.name, hasDisk: disks.has(app.name) }));
}
