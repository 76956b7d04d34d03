// The one executor: runs any plan step by step, journaling intent and result, arming an undo after each step and running them in reverse on failure.
import { FaultInjectedError, isBatonError } from '../errors.js';
import type { FailoverRecord } from '../state/history.js';
import { succeededSteps } from '../state/roll-back.js';
import type { InFlightOperation } from '../state/types.js';
import type { FailoverContext } from './context.js';
import { crashNow, faultPointAt, isCrashPoint } from './crash-point.js';
import { type Plan, type PlanStep, stepName } from './plan.js';
import { STEPS, type StepCall } from './steps.js';
import { Timeline } from './timeline.js';
import { type ArmedUndo, armUndo, runUndos } from './undo.js';

export interface ExecuteOptions {
  /** Why: `GUEST_PANICKED on vm-a`, the policy's reason, the operator's request. */
  trigger: string;
  /** When the fault was seen (monotonic ms): the record's `detect` phase runs from here. */
  detectedAtMs?: number;
  /** A resumed plan continues this journaled operation (its id and start are kept). */
  resumeOf?: InFlightOperation;
  /** Checks made before the first step, changing nothing; a failure ends the plan `failed`. */
  prepare?: () => Promise<void>;
  /** A step failed: undo what ran (the default), or give way to a bigger failover with nothing undone. */
  onStepFailed?: (error: Error, step: PlanStep) => 'undo' | 'escalate';
  /** Called with the record's id before anything acts (a second request joins this one). */
  onStarted?: (id: string) => void;
  /** What a crash point does (tests replace the SIGKILL). */
  crash?: () => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * `succeeded`; `rolled-back`: every undo ran, the app serves where it was (an app move) or the
 * interrupted move was rolled back; `failed`: nothing changed (prepare refused); `escalate`: a step
 * failed and the caller fails the whole VM over; `blocked`: the pair is blocked with the reason.
 */
export type ExecutionOutcome = 'succeeded' | 'rolled-back' | 'failed' | 'escalate' | 'blocked';

export interface Execution {
  readonly record: FailoverRecord;
  readonly outcome: ExecutionOutcome;
  readonly error?: Error;
}

/**
 * Runs `plan` through `ctx`. Each step: intent journaled (fsynced) → crash point → run (timed) →
 * result journaled → its undo armed. When a step fails, the operation is journaled rolling back
 * (with the original error, on disk before anything is undone), then the armed undos run newest
 * first, each journaled intent-first (undo.ts); the original error is kept in the record. An undo
 * that fails is logged and blocks the pair with both reasons. A resumed plan re-checks the steps
 * before its resume point without journaling them and runs each step's `recheck` (ask first, then
 * act) instead of `run`; a resumed roll-back (`resume.undos`) runs only the undos left. The record
 * is closed here, and only here: history kept, operation closed.
 */
export async function executePlan(
  plan: Plan,
  ctx: FailoverContext,
  options: ExecuteOptions,
): Promise<Execution> {
  const app = plan.kind === 'app' ? plan.apps[0] : undefined;
  const timeline = new Timeline({
    kind: plan.kind,
    trigger: options.trigger,
    fromVm: plan.from,
    toVm: plan.to,
    ...(app === undefined ? {} : { app }),
    ...(options.detectedAtMs === undefined ? {} : { detectedAtMs: options.detectedAtMs }),
  });
  const op = options.resumeOf;
  if (op !== undefined) {
    timeline.record.id = op.id;
    timeline.record.startedAt = op.startedAt;
    ctx.journal?.adopt(op);
  } else {
    ctx.journal?.open({
      id: timeline.record.id,
      kind: plan.kind,
      ...(app === undefined ? { apps: plan.apps } : { app }),
      fromVm: plan.from,
      toVm: plan.to,
      trigger: options.trigger,
      startedAt: timeline.record.startedAt,
    });
  }
  const id = timeline.record.id;
  options.onStarted?.(id);
  const log = ctx.log.child({ failoverId: id, ...(app === undefined ? {} : { app }) });
  const close = (outcome: ExecutionOutcome, error?: Error): Execution => {
    const result = outcome === 'succeeded' ? 'succeeded' : outcome === 'blocked' ? 'blocked' : 'failed';
    const record = timeline.finish(result, error);
    ctx.keep(record);
    ctx.journal?.close(id, record.result);
    return { record, outcome, ...(error === undefined ? {} : { error }) };
  };
  const undoRun = { ctx, id, timeline, log, ...pick(options) };
  const closeRollBack = (
    undoError: { name: string; error: Error } | undefined,
    at: { reason: string; failure: Error; hasStopped: boolean },
  ): Execution => {
    if (undoError !== undefined) {
      ctx.block(`${at.reason}; undoing ${undoError.name} failed: ${undoError.error.message}`);
      return close('blocked', at.failure);
    }
    // A move (or a switchover) whose stop succeeded and was undone serves from where it was; anything else has nowhere to run.
    if (plan.kind !== 'whole-vm' && at.hasStopped) return close('rolled-back', at.failure);
    ctx.block(at.reason);
    return close('blocked', at.failure);
  };
  if (plan.resume?.undos !== undefined && op?.rollingBack !== undefined) {
    // A roll-back a crash interrupted: the undos left, never a step forward.
    const { error, reason } = op.rollingBack;
    const undos = plan.resume.undos.flatMap((step) => {
      const armed = armUndo(step, { ctx, plan, app: step.app ?? '', pluggedBytes: new Map() }, plan, true);
      return armed === undefined ? [] : [armed];
    });
    const undoError = await runUndos(undos, undoRun);
    return closeRollBack(undoError, { reason, failure: new Error(error), hasStopped: hasStopped(op) });
  }
  if (plan.resume?.action === 'roll-back' && app !== undefined) {
    await timeline.phase('stop', async () => {
      if (await ctx.isAppRunning(plan.to, app)) await ctx.stopApp(plan.to, app);
    });
    return close(
      'rolled-back',
      new Error(`interrupted by a daemon restart; rolled back: ${app} stays on ${plan.from}`),
    );
  }
  try {
    await options.prepare?.();
  } catch (error) {
    return close('failed', error as Error);
  }
  const pluggedBytes = new Map<string, number>();
  const armed: ArmedUndo[] = [];
  for (const [index, step] of plan.steps.entries()) {
    const impl = STEPS[step.phase];
    const call: StepCall = { ctx, plan, app: step.app ?? '', pluggedBytes };
    const name = stepName(plan, step);
    const act = plan.resume === undefined ? impl.run : (impl.recheck ?? impl.run);
    try {
      if (plan.resume !== undefined && index < plan.resume.resumeAt) await act(call);
      else await journaled(ctx, { id, name, timeline, options, log }, () => act(call));
    } catch (error) {
      const failure = error as Error;
      if (options.onStepFailed?.(failure, step) === 'escalate') return close('escalate', failure);
      const reason = isBatonError(failure)
        ? failure.message
        : `${app === undefined ? 'failover' : `moving ${app}`} failed: ${failure.message}`;
      // On disk before the first undo: a daemon killed from here on continues the undos.
      if (armed.length > 0) await ctx.journal?.rollBack(id, { error: failure.message, reason });
      const undoError = await runUndos([...armed].reverse(), undoRun);
      return closeRollBack(undoError, {
        reason,
        failure,
        hasStopped: armed.length > 0 && plan.resume === undefined,
      });
    }
    const undo = armUndo(step, call, plan);
    if (undo !== undefined) armed.push(undo);
  }
  return close('succeeded');
}

/** One journaled step: intent on disk first, then the crash point, the timed work (or a fail point's error), the result. */
async function journaled(
  ctx: FailoverContext,
  at: { id: string; name: string; timeline: Timeline; options: ExecuteOptions; log: FailoverContext['log'] },
  work: () => Promise<void>,
): Promise<void> {
  const { id, name, timeline, options } = at;
  await ctx.journal?.intent(id, name);
  if (isCrashPoint(name, ctx.isFaultInjectionAllowed, options.env)) {
    await ctx.journal?.flush();
    at.log.error({ phase: name }, `fault point ${name}:crash: the daemon dies now`);
    (options.crash ?? crashNow)();
  }
  const isFailPoint = faultPointAt(name, ctx.isFaultInjectionAllowed, options.env) === 'fail';
  try {
    await timeline.phase(name, async () => {
      if (isFailPoint) throw new FaultInjectedError(name);
      await work();
    });
    ctx.journal?.result(id, name, 'ok');
  } catch (error) {
    ctx.journal?.result(id, name, 'failed', (error as Error).message);
    throw error;
  }
}

/** The crash-point settings of `options`, for the undos. */
function pick(options: ExecuteOptions): { crash?: () => void; env?: NodeJS.ProcessEnv } {
  return {
    ...(options.crash === undefined ? {} : { crash: options.crash }),
    ...(options.env === undefined ? {} : { env: options.env }),
  };
}

/** True when the operation's stop (the first step of a move) succeeded: its undo put the app back on the source. */
function hasStopped(op: InFlightOperation): boolean {
  return succeededSteps(op).some((step) => step.phase === 'stop');
}
