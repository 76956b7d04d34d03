// Taking back the VMs a previous daemon left running: what the saved state and the VMs found allow, the interrupted operation finished or rolled back, and each app found running or started.
import { join } from 'node:path';
import type { FailoverContext, FailoverTrigger } from '../failover/context.js';
import { executePlan } from '../failover/executor.js';
import { planResume } from '../failover/plan.js';
import type { AttachDoc } from '../recovery/identity.js';
import type { InFlightOperation, StateDoc } from '../state/index.js';
import { appAreaName, appAreasOf } from '../table/index.js';
import { formatBytes } from '../units.js';
import { type ContextHost, failoverContext } from './failover-context.js';
import { type ReattachResult, reattachVms, runningApps } from './reattach.js';
import { reconcileMemory } from './reconcile-memory.js';
import { noteStarted } from './supervise.js';
import type { PairVm } from './vm-factory.js';
import { planAppsOf } from './whole-vm-failover.js';

/** What taking back reads of the pair, and the pair's own ways to change it. */
export interface TakeBackHost {
  /** The pair, as a failover's context sees it (reads, commit, block). */
  readonly pair: ContextHost & {
    readonly roles: { readonly active: string; readonly standby: string };
    readonly blockedReason: string | undefined;
  };
  /** Takes the saved roles, table and history as the pair's own. */
  restore(saved: StateDoc): void;
  adopt(vm: PairVm): void;
  /** Starts an app whose area the table gives `vm` (or as new on the active). */
  restartApp(name: string, vm: PairVm): Promise<void>;
}

/** Taken back: blocked (an operation could not be finished), or whole, with the fault a lost VM left. */
export type TakeBack =
  | { outcome: 'not-taken' }
  | { outcome: 'blocked' }
  | { outcome: 'taken'; durationMs: number; fault?: FailoverTrigger; isStandbyGone: boolean };

/** Why the VMs found cannot be taken back (undefined: they can). */
function problemOf(saved: StateDoc | undefined, result: ReattachResult): string | undefined {
  const byName = new Set(result.vms.map((vm) => vm.machine.spec.name));
  const goneOf = (vm: string) => `${vm}: ${result.gone.get(vm) ?? 'not recorded'}`;
  const op = saved?.operations.find((o) => o.kind === 'whole-vm');
  const roles = saved?.table.roles;
  if (saved === undefined || roles === undefined) return 'no saved state';
  if (op !== undefined)
    return byName.has(op.toVm)
      ? undefined
      : `the target of the interrupted failover ${op.id}, ${op.toVm}, is gone (${result.gone.get(op.toVm) ?? 'not recorded'})`;
  return byName.has(roles.active) || byName.has(roles.standby)
    ? undefined
    : `no VM can be taken back (${goneOf(roles.active)}; ${goneOf(roles.standby)})`;
}

/**
 * Takes back both VMs of a previous daemon: identity checked (a reused pid is never signalled),
 * QMP and agent reconnected with a sync nonce, the table compared with QEMU's memory devices,
 * and each app found running through `app.list` (started again only if it is not).
 * `not-taken` (and every VM it did attach stopped) when the pair cannot be taken back whole.
 */
export async function takeBack(
  host: TakeBackHost,
  attach: AttachDoc,
  saved: StateDoc | undefined,
  progress: (line: string) => void,
): Promise<TakeBack> {
  const { pair } = host;
  const result = await reattachVms(attach.vms, pair.log, join(pair.config.stateDir, 'run'));
  const byName = new Map(result.vms.map((vm) => [vm.machine.spec.name, vm]));
  const problem = problemOf(saved, result);
  if (problem !== undefined || saved === undefined) {
    progress(`cannot re-attach: ${problem}; booting a fresh pair`);
    pair.log.warn({ problem }, 'cannot re-attach; booting a fresh pair');
    await Promise.all(result.vms.map((vm) => vm.machine.shutdown({ timeoutMs: 2000 })));
    return { outcome: 'not-taken' };
  }
  if (saved.table.budgetBytes !== pair.config.budgetBytes) {
    // The running pair's table is the truth: its budget stays until the pair is booted afresh.
    const line = `the config's budget (${formatBytes(pair.config.budgetBytes)}) differs from the running pair's (${formatBytes(saved.table.budgetBytes)}): keeping the running pair's until it is booted afresh (baton down, then baton up)`;
    progress(line);
    pair.log.warn({ configBytes: pair.config.budgetBytes, savedBytes: saved.table.budgetBytes }, line);
  }
  const op = saved.operations.find((o) => o.kind === 'whole-vm');
  // The active did not come back (exited, panicked, hung) while the standby did: that is the
  // fault it is, and the standby takes over as in any whole-VM failover (below, once adopted).
  const lostActive =
    op === undefined && !byName.has(saved.table.roles.active) ? saved.table.roles.active : undefined;
  host.restore(saved);
  const moves = saved.operations.filter((other) => other.kind === 'app');
  for (const other of op === undefined && lostActive === undefined ? [] : moves) {
    // A move beside a whole-VM failover: the failover decides where every app runs.
    pair.log.warn({ operation: other.id, app: other.app }, 'an interrupted app move gives way to a failover');
    pair.persistence?.operations.set(other.id, other);
    pair.persistence?.closeOperation(other.id, 'rolled-back');
  }
  if (op !== undefined) {
    const target = byName.get(op.toVm);
    if (target === undefined) return { outcome: 'not-taken' };
    host.adopt(target);
    const failed = byName.get(op.fromVm);
    for (const endpoint of pair.endpoints.values()) endpoint.hold();
    const ctx = failoverContext(
      pair,
      failed === undefined ? {} : { extraVms: new Map([[op.fromVm, failed]]) },
    );
    if (!(await resume(host, op, ctx, progress))) return { outcome: 'blocked' };
  } else {
    for (const vm of result.vms) host.adopt(vm);
    const switchover = saved.operations.find((other) => other.kind === 'switchover');
    if (switchover !== undefined) {
      // Its apps may be half-moved (a disk on either VM): starting any of them could run it twice.
      pair.persistence?.operations.set(switchover.id, switchover);
      pair.persistence?.closeOperation(switchover.id, 'blocked');
      const at =
        switchover.phase === undefined
          ? 'before its first step'
          : `at ${switchover.phase}${switchover.phaseApp === undefined ? '' : ` of ${switchover.phaseApp}`}`;
      pair.block(
        `the switchover ${switchover.id} was interrupted by a daemon restart ${at}: check where its apps run, then baton down and up`,
      );
      progress(`blocked: ${pair.blockedReason}`);
      return { outcome: 'blocked' };
    }
    for (const move of lostActive === undefined ? moves : [])
      if (!(await resume(host, move, failoverContext(pair), progress))) return { outcome: 'blocked' };
  }
  await reconcileMemory(pair);
  await serveEveryApp(host);
  const isStandbyGone = !pair.vms.has(pair.roles.standby);
  const now = performance.now();
  const fault: FailoverTrigger | undefined =
    lostActive !== undefined
      ? { vm: lostActive, signal: result.faults.get(lostActive) ?? 'qemu-exit', detectedAtMs: now }
      : isStandbyGone && appAreasOf(pair.table, pair.roles.standby).length > 0
        ? // The standby ran apps moved to it alone and died with the daemon: they fail over to the active.
          { vm: pair.roles.standby, signal: 'qemu-exit', detectedAtMs: now }
        : undefined;
  if (lostActive !== undefined && fault !== undefined)
    progress(
      `the active ${lostActive}: ${result.gone.get(lostActive) ?? 'not recorded'}; failing over to ${pair.roles.standby} (${fault.signal})`,
    );
  return {
    outcome: 'taken',
    durationMs: result.durationMs,
    isStandbyGone,
    ...(fault === undefined ? {} : { fault }),
  };
}

/**
 * Finishes (or rolls back) an operation a daemon crash interrupted, from its journaled phase
 * (planResume, then the executor). False when it could not: the daemon stays up, visibly
 * blocked, with the VMs as they are, so nothing is started anywhere it might already run.
 */
async function resume(
  host: TakeBackHost,
  op: InFlightOperation,
  ctx: FailoverContext,
  progress: (line: string) => void,
): Promise<boolean> {
  const { pair } = host;
  const plan = planResume(pair.table, op, planAppsOf(pair.config.apps, pair.disks));
  const what = op.kind === 'app' ? `the move of ${op.app ?? ''}` : 'failover';
  pair.log.warn({ operation: op.id, resume: plan.resume }, `resuming ${what}: ${plan.resume?.reason}`);
  progress(`resuming ${what} ${op.id} (${op.fromVm} → ${op.toVm}): ${plan.resume?.reason}`);
  const { outcome, error } = await executePlan(plan, ctx, {
    trigger: `${op.trigger} (resumed after a daemon restart)`,
    resumeOf: op,
  });
  if (outcome === 'succeeded' || outcome === 'rolled-back') return true;
  // A roll-back that could not finish has blocked the pair with the failing undo's reason already.
  if (outcome === 'blocked' && plan.resume?.undos !== undefined) {
    progress(`blocked: ${pair.blockedReason}`);
    return false;
  }
  const kind = op.kind === 'app' ? 'move' : 'failover';
  pair.block(`the interrupted ${kind} ${op.id} could not be finished: ${error?.message ?? outcome}`);
  progress(`blocked: ${pair.blockedReason}`);
  return false;
}

/** Routes each app found running to its VM; starts the ones that are not (an ordinary app with no area waits for the pool). */
async function serveEveryApp(host: TakeBackHost): Promise<void> {
  const { pair } = host;
  for (const app of pair.config.apps) {
    const area = pair.table.areas.find((a) => a.name === appAreaName(app.name));
    // An ordinary app whose VM failed has no area: it starts when the pool allows (ordinary-placer.ts).
    if (area === undefined && !app.hotStandby) continue;
    const owner = area?.user ?? pair.roles.active;
    const vm = pair.vms.get(owner);
    if (vm === undefined) continue; // Its VM failed: only hot-standby apps move.
    const running = await runningApps(vm).catch(() => new Map<string, number>());
    if (running.has(app.name)) {
      pair.endpoints
        .get(app.name)
        ?.route({ host: '127.0.0.1', port: vm.forwards.get(app.name) ?? 0, vm: vm.machine.spec.name });
      noteStarted(pair.supervision, app.name);
      continue;
    }
    pair.log.warn(
      { app: app.name, vm: vm.machine.spec.name },
      'app not running after re-attach; starting it',
    );
    await host.restartApp(app.name, vm);
  }
}
