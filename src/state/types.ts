// What baton persists: the table, its epoch, every in-flight failover with its phase, recent history.

import type { ResourceTable } from '../table/types.js';
import type { FailoverKind, FailoverRecord } from './history.js';
import type { OperationPhase, StepMark } from './phases.js';

/** The schema version this build writes and reads; older versions go through a migration. */
export const STATE_SCHEMA_VERSION = 1;

/** How many finished failovers the state keeps; older ones live only in the event journal. */
export const HISTORY_LIMIT = 100;

/** Whole-VM failover (src/pair/whole-vm-failover.ts) or a single-app move (src/pair/app-move.ts). */
export type OperationKind = FailoverKind;

/** A failover phase (the list is OPERATION_PHASES in phases.ts). */
export type { OperationPhase, StepMark } from './phases.js';

/** `intent`: written before the phase acts; `done`: written after, with its outcome. */
export type PhaseState = 'intent' | 'done';

export type PhaseOutcome = 'ok' | 'failed';

/** One phase of one operation; `app` is set for the phases that act on one app. */
export interface StepRef {
  readonly phase: OperationPhase;
  readonly app?: string;
}

/** One entry of an operation's phase history; a phase begun again after a restart gets a new entry. */
export interface PhaseStep extends StepRef {
  /** `undo`: this entry undid the phase during a roll-back; absent: the phase ran forward. */
  readonly mark?: StepMark;
  readonly state: PhaseState;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly outcome?: PhaseOutcome;
  /** What the phase found or why it failed, for people. */
  readonly detail?: string;
}

/**
 * A failover that has started and not yet been closed. `phase`/`phaseApp`/`phaseState` name the
 * step it is at (absent before the first phase); `history` lists every step begun, oldest first.
 */
export interface InFlightOperation {
  readonly id: string;
  readonly kind: OperationKind;
  /** App moves: the app that moves. */
  readonly app?: string;
  /** The apps that move, in the order they are placed (whole-VM: every hot-standby app; app: [app]). */
  readonly apps: readonly string[];
  readonly fromVm: string;
  readonly toVm: string;
  readonly trigger: string;
  /** Wall time, for people. */
  readonly startedAt: string;
  readonly phase?: OperationPhase;
  readonly phaseApp?: string;
  readonly phaseState?: PhaseState;
  readonly phaseOutcome?: PhaseOutcome;
  /**
   * Set once a step failed and its undos are about to run (fsynced before the first): a restarted
   * daemon continues the undos instead of resuming forward. Absent in files of older versions.
   */
  readonly rollingBack?: RollingBack;
  readonly history: readonly PhaseStep[];
}

/** Why an operation rolls back: the step that failed and the error it failed with. */
export interface RollingBack {
  /** The original error's message, kept for the record once the roll-back is closed. */
  readonly error: string;
  /** The reason the pair is blocked with if the roll-back cannot put everything back. */
  readonly reason: string;
  readonly startedAt: string;
}

/** The persisted document. `epoch` increases on every save; a save at or below the stored epoch is refused. */
export interface StateDoc {
  readonly schemaVersion: typeof STATE_SCHEMA_VERSION;
  readonly epoch: number;
  readonly table: ResourceTable;
  readonly operations: readonly InFlightOperation[];
  /** Finished failovers, oldest first; save keeps the last HISTORY_LIMIT. */
  readonly history: readonly FailoverRecord[];
}

/** Where a loaded document came from: `empty` only when no state file exists at all. */
export type StateSource = 'current' | 'previous' | 'empty';

/** What load returns; `warnings` has one line per thing it noticed and dealt with (a fallback, a migration, a removed temp file). */
export type LoadedState =
  | { readonly source: 'current' | 'previous'; readonly doc: StateDoc; readonly warnings: readonly string[] }
  | { readonly source: 'empty'; readonly doc: undefined; readonly warnings: readonly string[] };
