// In-flight failover records and their pure transitions: intent before a phase acts, done (with outcome) after.
import { OperationPhaseError } from '../errors.js';
import { OPTIONAL_PHASES, PLACE_PHASES, RELEASE_PHASES } from './phases.js';
import type {
  InFlightOperation,
  OperationKind,
  OperationPhase,
  PhaseOutcome,
  PhaseStep,
  StepRef,
} from './types.js';

/** An operation keeps at most this many phase entries (redone phases add entries); older ones drop. */
export const MAX_PHASE_ENTRIES = 200;

export function createOperation(fields: {
  id: string;
  kind: OperationKind;
  /** App moves: the app. */
  app?: string;
  /** Whole-VM: the hot-standby apps that move, in placement order. */
  apps?: readonly string[];
  fromVm: string;
  toVm: string;
  trigger: string;
  startedAt: string;
}): InFlightOperation {
  const { app, apps, ...rest } = fields;
  if (fields.kind === 'app') {
    if (app === undefined) throw invalid(fields.id, 'create', 'create an app move: it names no app');
    return { ...rest, app, apps: [app], history: [] };
  }
  return { ...rest, apps: [...(apps ?? [])], history: [] };
}

/**
 * Every step of `op` in order. Whole-VM: fence, the place phases per app, commit. App: release,
 * place, commit. Switchover: release and place per app, commit.
 */
export function stepsOf(op: InFlightOperation): StepRef[] {
  const perApp = (phases: readonly OperationPhase[], app: string) => phases.map((phase) => ({ phase, app }));
  if (op.kind === 'app') {
    const app = op.app ?? '';
    return [...perApp(RELEASE_PHASES, app), ...perApp(PLACE_PHASES, app), { phase: 'commit' }];
  }
  if (op.kind === 'switchover')
    return [
      ...op.apps.flatMap((app) => [...perApp(RELEASE_PHASES, app), ...perApp(PLACE_PHASES, app)]),
      { phase: 'commit' },
    ];
  return [{ phase: 'fence' }, ...op.apps.flatMap((app) => perApp(PLACE_PHASES, app)), { phase: 'commit' }];
}

/** The step `op` is at, or undefined before its first phase. */
export function currentStep(op: InFlightOperation): StepRef | undefined {
  if (op.phase === undefined) return undefined;
  return op.phaseApp === undefined ? { phase: op.phase } : { phase: op.phase, app: op.phaseApp };
}

/** The index of `step` in stepsOf(op), or -1. */
export function indexOfStep(op: InFlightOperation, step: StepRef | undefined): number {
  if (step === undefined) return -1;
  return stepsOf(op).findIndex((ref) => ref.phase === step.phase && ref.app === step.app);
}

/**
 * True when the operation has nothing left to do: commit done, or a phase failed (the caller
 * blocks). An operation rolling back is not over: its undos are left to run.
 */
export function isOperationOver(op: InFlightOperation): boolean {
  if (op.rollingBack !== undefined) return false;
  return op.phaseState === 'done' && (op.phase === 'commit' || op.phaseOutcome === 'failed');
}

/**
 * Records the intent to run `phase` (for a phase naming no app: the next step with that phase,
 * or the current one again). Allowed: the next step (optional steps may be skipped), or the
 * current step again, which is how a phase interrupted by a crash, or one that failed, is redone.
 */
export function beginPhase(
  op: InFlightOperation,
  phase: OperationPhase | StepRef,
  at: string,
): InFlightOperation {
  const ref = typeof phase === 'string' ? { phase } : phase;
  const steps = stepsOf(op);
  const current = indexOfStep(op, currentStep(op));
  const target = resolveStep(op, steps, ref, current);
  const step = steps[target];
  const refuse = (why: string) => invalid(op.id, ref.phase, `begin ${describeStep(ref)}: ${why}`);
  if (step === undefined) throw refuse(`it is not a step of this ${op.kind} failover`);
  if (op.rollingBack !== undefined) throw refuse('the failover is rolling back');
  const isCurrentComplete = op.phaseState === 'done' && op.phaseOutcome === 'ok';
  if (op.phase === 'commit' && isCurrentComplete) throw refuse('the failover is committed');
  if (target !== current) {
    if (current >= 0 && !isCurrentComplete) throw refuse(`${describeStep(steps[current])} has not completed`);
    if (target < current) throw refuse(`it comes before ${describeStep(steps[current])}`);
    const skipped = steps.slice(current + 1, target).find((other) => !OPTIONAL_PHASES.has(other.phase));
    if (skipped !== undefined) throw refuse(`${describeStep(skipped)} has not run`);
  }
  const entry: PhaseStep = { ...step, state: 'intent', startedAt: at };
  const { phaseApp: _app, phaseOutcome: _outcome, ...rest } = op;
  return {
    ...rest,
    phase: step.phase,
    ...(step.app === undefined ? {} : { phaseApp: step.app }),
    phaseState: 'intent',
    history: [...op.history, entry].slice(-MAX_PHASE_ENTRIES),
  };
}

/** Records that the current phase finished, with its outcome; only the phase in `intent` can end. */
export function endPhase(
  op: InFlightOperation,
  phase: OperationPhase | StepRef,
  outcome: PhaseOutcome,
  at: string,
  detail?: string,
): InFlightOperation {
  const ref: StepRef =
    typeof phase === 'string' ? { phase, ...(op.phaseApp === undefined ? {} : { app: op.phaseApp }) } : phase;
  if (op.phaseState !== 'intent' || op.phase !== ref.phase || op.phaseApp !== ref.app) {
    const now = currentStep(op);
    const where = now === undefined ? 'no phase has begun' : `${describeStep(now)} is ${op.phaseState}`;
    throw invalid(op.id, ref.phase, `end ${describeStep(ref)}: ${where}`);
  }
  const last = op.history.at(-1);
  const ended: PhaseStep = {
    ...(last ?? { ...ref, startedAt: at }),
    state: 'done',
    endedAt: at,
    outcome,
    ...(detail === undefined ? {} : { detail }),
  };
  return { ...op, phaseState: 'done', phaseOutcome: outcome, history: [...op.history.slice(0, -1), ended] };
}

/** `plug for kv`, `fence`. */
export function describeStep(step: StepRef | undefined): string {
  if (step === undefined) return 'nothing';
  return step.app === undefined ? step.phase : `${step.phase} for ${step.app}`;
}

/** The index `ref` names: with an app, that exact step; without, the current step or the next one with that phase. */
function resolveStep(
  op: InFlightOperation,
  steps: readonly StepRef[],
  ref: StepRef,
  current: number,
): number {
  if (ref.app !== undefined) return indexOfStep(op, ref);
  const from = Math.max(current, 0);
  const ahead = steps.findIndex((step, index) => index >= from && step.phase === ref.phase);
  return ahead === -1 ? steps.findIndex((step) => step.phase === ref.phase) : ahead;
}

function invalid(operationId: string, phase: string, detail: string): OperationPhaseError {
  return new OperationPhaseError({ operationId, phase, detail });
}
