// Rolling a plan back: the undos run newest first, each journaled (intent before, result after) with the `undo` mark; a restarted daemon continues the ones left.
import type { StepRef } from '../state/types.js';
import type { FailoverContext } from './context.js';
import { crashNow, isCrashPoint } from './crash-point.js';
import { type Plan, stepName } from './plan.js';
import { STEPS, type StepCall } from './steps.js';
import type { Timeline } from './timeline.js';

/** An undo ready to run: the step it undoes, its executor name (`plug`, `plug:kv`) and the call. */
export interface ArmedUndo {
  readonly step: StepRef;
  readonly name: string;
  readonly call: StepCall;
  readonly undo: (call: StepCall) => Promise<void>;
}

/** Where the undos run: the operation's id, its timeline and log, and the crash-point settings. */
export interface UndoRun {
  readonly ctx: FailoverContext;
  readonly id: string;
  readonly timeline: Timeline;
  readonly log: FailoverContext['log'];
  readonly crash?: () => void;
  readonly env?: NodeJS.ProcessEnv;
}

/** The armed undo of `step`, or undefined when its phase has none (fence, confirm, commit). */
export function armUndo(step: StepRef, call: StepCall, plan: Plan, isResumed = false): ArmedUndo | undefined {
  const impl = STEPS[step.phase];
  const undo = isResumed ? (impl.recheckUndo ?? impl.undo) : impl.undo;
  if (undo === undefined) return undefined;
  return { step, name: stepName(plan, step), call, undo };
}

/**
 * Runs `undos` in the order given (the caller passes newest first). Each: intent journaled →
 * crash point `undo-<phase>` → undo (timed as `undo-<name>`) → result journaled. Stops at the
 * first that fails and returns it; the ones after it stay as they are (the pair is blocked).
 */
export async function runUndos(
  undos: readonly ArmedUndo[],
  run: UndoRun,
): Promise<{ name: string; error: Error } | undefined> {
  const { ctx, id, timeline, log } = run;
  for (const entry of undos) {
    await ctx.journal?.undoIntent(id, entry.name, entry.step);
    if (isCrashPoint(`undo-${entry.name}`, ctx.isFaultInjectionAllowed, run.env)) {
      await ctx.journal?.flush();
      log.error({ phase: entry.name }, `fault point undo-${entry.name}:crash: the daemon dies now`);
      (run.crash ?? crashNow)();
    }
    try {
      await timeline.phase(`undo-${entry.name}`, () => entry.undo(entry.call));
      ctx.journal?.undoResult(id, entry.name, entry.step, 'ok');
    } catch (error) {
      const message = (error as Error).message;
      ctx.journal?.undoResult(id, entry.name, entry.step, 'failed', message);
      log.error({ phase: entry.name, err: message }, `undoing ${entry.name} failed`);
      return { name: entry.name, error: error as Error };
    }
  }
  return undefined;
}
