// The failover phases, defined once: the schema, the journal, recovery, the planner, the bench and the tests derive theirs from these.

/** What an app move does on the VM the app leaves, in order. */
export const RELEASE_PHASES = ['stop', 'unplug', 'disk-detach'] as const;
/** What placing one app on a VM does, in order. */
export const PLACE_PHASES = ['disk', 'plug', 'confirm', 'start', 'healthy'] as const;
/** Every phase an operation can journal. */
export const OPERATION_PHASES = ['fence', ...RELEASE_PHASES, ...PLACE_PHASES, 'commit'] as const;

export type OperationPhase = (typeof OPERATION_PHASES)[number];

/** The phases of a whole-VM failover moving one app (per moving app, the place phases repeat). */
export const WHOLE_VM_PHASES: readonly OperationPhase[] = ['fence', ...PLACE_PHASES, 'commit'];
/** The phases of a single-app move. */
export const APP_MOVE_PHASES: readonly OperationPhase[] = [...RELEASE_PHASES, ...PLACE_PHASES, 'commit'];
/** Phases an executor skips when they have nothing to do (an app without a data disk). */
export const OPTIONAL_PHASES: ReadonlySet<OperationPhase> = new Set<OperationPhase>(['disk', 'disk-detach']);

/**
 * The phases that change something a later failure must put back, so they have an undo (the
 * step table in src/failover/steps.ts is typed from this list: an undo is required exactly here).
 * The fence is never undone (the failed VM stays stopped); confirm only waits; commit is last.
 */
export const UNDOABLE_PHASES = ['stop', 'unplug', 'disk-detach', 'disk', 'plug', 'start', 'healthy'] as const;

export type UndoablePhase = (typeof UNDOABLE_PHASES)[number];

const UNDOABLE = new Set<string>(UNDOABLE_PHASES);

export function isUndoablePhase(name: string): name is UndoablePhase {
  return UNDOABLE.has(name);
}

const KNOWN = new Set<string>(OPERATION_PHASES);

export function isOperationPhase(name: string): name is OperationPhase {
  return KNOWN.has(name);
}

/**
 * The marks a journaled step entry can carry. `undo`: the entry is the undo of its phase, run
 * while the operation rolls back (an entry without a mark is the phase run forward).
 */
export const STEP_MARKS = ['undo'] as const;

export type StepMark = (typeof STEP_MARKS)[number];

const MARKS = new Set<string>(STEP_MARKS);

export function isStepMark(name: string): name is StepMark {
  return MARKS.has(name);
}
