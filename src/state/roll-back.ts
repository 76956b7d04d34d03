// Rolling an operation back, as pure transitions: the mark set before the first undo, each undo's intent and result, and what is left to undo.
import { OperationPhaseError } from '../errors.js';
import { describeStep, MAX_PHASE_ENTRIES, stepsOf } from './operations.js';
import { isUndoablePhase } from './phases.js';
import type { InFlightOperation, PhaseOutcome, PhaseStep, StepMark, StepRef } from './types.js';

/**
 * Marks `op` as rolling back because a step failed with `error` (the pair is blocked with
 * `reason` if the roll-back cannot finish). A second mark keeps the first: the original error
 * is the one the record keeps.
 */
export function startRollBack(
  op: InFlightOperation,
  failure: { error: string; reason: string },
  at: string,
): InFlightOperation {
  if (op.rollingBack !== undefined) return op;
  return { ...op, rollingBack: { error: failure.error, reason: failure.reason, startedAt: at } };
}

/** Records the intent to undo `step`: only while rolling back, only a step that succeeded and was not undone yet. */
export function beginUndo(op: InFlightOperation, step: StepRef, at: string): InFlightOperation {
  const refuse = (why: string) => invalid(op, step, `begin the undo of ${describeStep(step)}: ${why}`);
  if (op.rollingBack === undefined) throw refuse('the operation is not rolling back');
  if (!undosLeft(op).some((left) => sameStep(left, step))) throw refuse('it did not succeed, or is undone');
  const last = op.history.at(-1);
  if (last?.mark === 'undo' && last.state === 'intent' && !sameStep(last, step))
    throw refuse(`the undo of ${describeStep(last)} has not ended`);
  const entry: PhaseStep = { ...refOf(step), mark: 'undo', state: 'intent', startedAt: at };
  return { ...op, history: [...op.history, entry].slice(-MAX_PHASE_ENTRIES) };
}

/** Records that the undo of `step` ended, with its outcome; only the undo last begun can end. */
export function endUndo(
  op: InFlightOperation,
  step: StepRef,
  outcome: PhaseOutcome,
  at: string,
  detail?: string,
): InFlightOperation {
  const last = op.history.at(-1);
  if (last === undefined || last.mark !== 'undo' || last.state !== 'intent' || !sameStep(last, step))
    throw invalid(op, step, `end the undo of ${describeStep(step)}: it is not the undo in progress`);
  const ended: PhaseStep = {
    ...last,
    state: 'done',
    endedAt: at,
    outcome,
    ...(detail === undefined ? {} : { detail }),
  };
  return { ...op, history: [...op.history.slice(0, -1), ended] };
}

/**
 * The steps whose forward run succeeded, in the operation's step order (a step redone after a
 * restart counts once).
 */
export function succeededSteps(op: InFlightOperation): StepRef[] {
  return stepsOf(op).filter((step) => hasSucceeded(op, step, undefined));
}

/**
 * What a roll-back still has to undo, in the order to undo it: the steps that succeeded and whose
 * undo has not succeeded, newest first. An undo that began and did not end is in the list (it is
 * run again). Steps without an undo (not in UNDOABLE_PHASES: fence, confirm, commit) are not listed.
 */
export function undosLeft(op: InFlightOperation): StepRef[] {
  return succeededSteps(op)
    .filter((step) => isUndoablePhase(step.phase) && !hasSucceeded(op, step, 'undo'))
    .reverse();
}

/** True when a history entry with `mark` (undefined: forward) of `step` ended `ok`. */
function hasSucceeded(op: InFlightOperation, step: StepRef, mark: StepMark | undefined): boolean {
  return op.history.some(
    (entry) =>
      entry.mark === mark && entry.state === 'done' && entry.outcome === 'ok' && sameStep(entry, step),
  );
}

function sameStep(a: StepRef, b: StepRef): boolean {
  return a.phase === b.phase && a.app === b.app;
}

function refOf(step: StepRef): StepRef {
  return step.app === undefined ? { phase: step.phase } : { phase: step.phase, app: step.app };
}

function invalid(op: InFlightOperation, step: StepRef, detail: string): OperationPhaseError {
  return new OperationPhaseError({ operationId: op.id, phase: step.phase, detail });
}
