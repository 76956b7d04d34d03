// What a restarted daemon does with a failover it finds in flight: finish it forward or roll it back, and from where.
import { currentStep, describeStep, indexOfStep, stepsOf } from './operations.js';
import { undosLeft } from './roll-back.js';
import type { InFlightOperation, OperationPhase, StepRef } from './types.js';

/**
 * What to prove before resuming. `old-vm-stopped`: the failed VM's QEMU is gone (pidfd or pid plus
 * start time), checked again, never taken from the record. `app-stopped-on-source`: the app does
 * not run on the VM it left. `app-not-running-on-target`: ask the target's agent whether the app
 * already runs there, and start it only if it does not (an app is never started twice).
 */
export type RecoveryCheck = 'old-vm-stopped' | 'app-stopped-on-source' | 'app-not-running-on-target';

export interface RecoveryPlan {
  readonly action: 'finish' | 'roll-back';
  /**
   * A phase to run (again), `restart-on-source` (roll-back: the app's memory and disk never left
   * the source; start it there again unless its agent says it runs), or `close` (nothing left to
   * do but record the result and drop the operation).
   */
  readonly next: { readonly phase: OperationPhase | 'restart-on-source' | 'close'; readonly app?: string };
  readonly verify: readonly RecoveryCheck[];
  readonly reason: string;
  /**
   * An operation found rolling back: the steps whose undo is left to run, in that order (newest
   * first; an undo that was interrupted runs again). Absent for every other plan.
   */
  readonly undos?: readonly StepRef[];
}

/**
 * Why running a phase again is safe: what its executor does so that doing it twice changes
 * nothing. The executors must keep these promises; recovery relies on them.
 */
export const REDO_IS_SAFE: Readonly<Record<OperationPhase, string>> = {
  fence: 'the fence is proven again (QMP stop confirmed or the QEMU exit seen), never assumed',
  stop: 'an app that is not running counts as stopped',
  unplug: 'the requested size is set to zero again; an unplugged slot stays unplugged',
  'disk-detach': 'a disk that is already gone counts as detached',
  disk: 'an attached disk is found by query-pci and left as it is',
  plug: 'the requested size is set again; the same size is no change',
  confirm: 'it only waits for QEMU and the guest to report the size',
  start: 'the agent is asked first; the app starts only if it is not running',
  healthy: 'it only waits for the health check',
  commit: 'the new table is built again from the persisted one and saved with a higher epoch',
};

/**
 * Whole-VM failover, always forward: the failed VM stopped being trusted when the failure was
 * detected, so there is nothing to roll back to.
 *   - no phase, or fence not completed (intent, or failed): fence again; the fence itself proves
 *     the old VM is stopped, and if it cannot the pair goes blocked.
 *   - fence done and after: the old VM was fenced; re-verify it is gone, then redo the
 *     interrupted phase (idempotent, see REDO_IS_SAFE) or start the next one.
 *   - start interrupted: also ask the target's agent first, so the app is not started twice.
 *   - commit done: close.
 * App move: the point of no return is the unplug from the source.
 *   - no phase, or stop (any state): roll back; the app's memory and disk are still on the
 *     source and the target got nothing, so the app is started there again if it is not running.
 *   - unplug begun and after: finish forward as above, re-verifying first that the app does not
 *     run on the source.
 * A phase that failed but was not closed counts as interrupted: it is run once more, and the
 * executor blocks if it fails again.
 * Any kind, rolling back (a step failed and its undos began): never forward. The undos left
 * (undosLeft) run in reverse of the steps that had succeeded, then the record closes with the
 * original error; the fence is not undone (the failed VM stays stopped).
 */
export function planRecovery(op: InFlightOperation): RecoveryPlan {
  if (op.rollingBack !== undefined) {
    const undos = undosLeft(op);
    const first = undos[0];
    const left =
      undos.length === 0 ? 'nothing is left to undo' : `undo ${undos.map(describeStep).join(', ')}`;
    return {
      action: 'roll-back',
      next: first ?? { phase: 'close' },
      verify: [],
      reason: `${describeStep(currentStep(op))} failed (${op.rollingBack.error}) and the roll-back was interrupted: ${left}`,
      undos,
    };
  }
  const steps = stepsOf(op);
  const at = indexOfStep(op, currentStep(op));
  const isComplete = op.phaseState === 'done' && op.phaseOutcome === 'ok';
  if (op.kind === 'app' && (at === -1 || op.phase === 'stop')) {
    return {
      action: 'roll-back',
      next: { phase: 'restart-on-source', ...(op.app === undefined ? {} : { app: op.app }) },
      verify: [],
      reason: `${describeStep(currentStep(op))} was the last phase begun, before the unplug: the app's memory and disk are still on ${op.fromVm}`,
    };
  }
  const resume = at === -1 ? 0 : isComplete ? at + 1 : at;
  const step = steps[resume];
  const isFenced = op.kind === 'whole-vm' && at >= 0 && !(op.phase === 'fence' && !isComplete);
  const verify: RecoveryCheck[] = [];
  if (isFenced) verify.push('old-vm-stopped');
  if (op.kind === 'app') verify.push('app-stopped-on-source');
  if (step === undefined) {
    return { action: 'finish', next: { phase: 'close' }, verify, reason: 'the failover was committed' };
  }
  const isRedo = resume === at;
  if (isRedo && step.phase === 'start') verify.push('app-not-running-on-target');
  const done = at === -1 ? 'no phase had begun' : `${describeStep(steps[at])} completed`;
  const reason = isRedo
    ? `${describeStep(step)} was interrupted (${op.phaseOutcome === 'failed' ? 'failed' : 'intent written'}); run it again: ${REDO_IS_SAFE[step.phase]}`
    : `${done}; continue with ${describeStep(step)}`;
  return { action: 'finish', next: step, verify, reason };
}
