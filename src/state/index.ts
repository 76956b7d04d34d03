// The durable state layer's public API: the state store, the event journal, in-flight operations and their recovery.
export { canonicalJson, checksumOf, decodeEnvelope, encodeEnvelope } from './envelope.js';
export type { FailoverKind, FailoverRecord, FailoverResult, PhaseRecord } from './history.js';
export {
  DEFAULT_JOURNAL_KEEP,
  DEFAULT_JOURNAL_MAX_BYTES,
  EventJournal,
  type JournalOptions,
} from './journal.js';
export { JOURNAL_FILE, type JournalEvent, type JournalReading, readJournal } from './journal-read.js';
export { MIGRATIONS, type Migration, type MigrationRegistry } from './migrations.js';
export {
  beginPhase,
  createOperation,
  currentStep,
  describeStep,
  endPhase,
  isOperationOver,
  stepsOf,
} from './operations.js';
export {
  APP_MOVE_PHASES,
  isOperationPhase,
  isStepMark,
  OPERATION_PHASES,
  OPTIONAL_PHASES,
  PLACE_PHASES,
  RELEASE_PHASES,
  STEP_MARKS,
  type StepMark,
  WHOLE_VM_PHASES,
} from './phases.js';
export { planRecovery, REDO_IS_SAFE, type RecoveryCheck, type RecoveryPlan } from './recovery.js';
export { beginUndo, endUndo, startRollBack, succeededSteps, undosLeft } from './roll-back.js';
export {
  CURRENT_FILE,
  PREVIOUS_FILE,
  StateStore,
  type StateStoreOptions,
  TEMP_FILE,
} from './store.js';
export {
  HISTORY_LIMIT,
  type InFlightOperation,
  type LoadedState,
  type OperationKind,
  type OperationPhase,
  type PhaseOutcome,
  type PhaseState,
  type PhaseStep,
  type RollingBack,
  STATE_SCHEMA_VERSION,
  type StateDoc,
  type StateSource,
  type StepRef,
} from './types.js';
