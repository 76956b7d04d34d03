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

const KNOWN = new Set<string>(OPERATION_PHASES);

export function isOperationPhase(name: string): name is OperationPhase {
  return KNOWN.has(name);
}
