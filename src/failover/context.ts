// What an executor may ask of the pair: a narrow set of functions by VM and app name, never the pair itself.
import type { Logger } from '../log.js';
import type { FailoverKind, FailoverRecord } from '../state/history.js';
import type { createOperation } from '../state/operations.js';
import type { InFlightOperation, PhaseOutcome, StepRef } from '../state/types.js';
import type { ResourceTable } from '../table/types.js';

export interface FailoverTrigger {
  vm: string;
  signal: 'GUEST_PANICKED' | 'qemu-exit' | 'qmp-disconnect' | 'hang' | 'request';
  detectedAtMs: number;
}

export interface AppMoveTrigger {
  /** Why the app moves: the policy's reason (`decide(...).reason`) or the operator's request. */
  reason: string;
  /** When the fault was seen (host monotonic ms); the timeline's `detect` phase runs from here. */
  detectedAtMs?: number;
}

/** The operation journal: intent fsynced before a step acts, result after, the operation closed at the end. */
export interface OperationJournal {
  open(fields: Parameters<typeof createOperation>[0]): unknown;
  /** Takes an operation loaded from the state directory back (a resume continues it). */
  adopt(op: InFlightOperation): void;
  intent(opId: string, name: string): Promise<void>;
  result(opId: string, name: string, outcome: PhaseOutcome, detail?: string): void;
  flush(): Promise<void>;
  close(opId: string, result: string): void;
  /**
   * Marks the operation rolling back because a step failed (`error`: its message; `reason`: what
   * the pair is blocked with if the roll-back cannot finish); on disk before it resolves, so a
   * restarted daemon continues the undos instead of resuming forward.
   */
  rollBack(opId: string, failure: { error: string; reason: string }): Promise<void>;
  /** The intent to undo `step` (the executor's step name `name`), on disk before the undo acts. */
  undoIntent(opId: string, name: string, step: StepRef): Promise<void>;
  /** The undo's result, after it acted. */
  undoResult(opId: string, name: string, step: StepRef, outcome: PhaseOutcome, detail?: string): void;
}

/**
 * The actions of the steps, by VM and app name. Every one is a single QMP, agent or process
 * action (or a wait on one) and throws what failed; none changes the pair's state or table.
 */
export interface FailoverActions {
  /** Stops the VM and proves it by the QEMU process's exit (a VM already gone counts as fenced). */
  fence(vm: string): Promise<void>;
  /** Stops the app; one that is not running counts as stopped. */
  stopApp(vm: string, app: string): Promise<void>;
  /** Asks the VM's agent (never a record) whether the app runs there. */
  isAppRunning(vm: string, app: string): Promise<boolean>;
  /** Sets the app's slot on `vm` to `sizeBytes` and waits for QEMU to report it; resolves with the plugged size. */
  plug(vm: string, app: string, sizeBytes: number): Promise<number>;
  unplug(vm: string, app: string): Promise<void>;
  /** Waits for the guest's agent to see `sizeBytes` online on the app's NUMA node. */
  confirm(vm: string, app: string, sizeBytes: number): Promise<void>;
  /** Attaches the app's data disk; `isRedo`: a node or device already there counts as attached. */
  attachDisk(vm: string, app: string, isRedo: boolean): Promise<void>;
  detachDisk(vm: string, app: string): Promise<void>;
  startApp(vm: string, app: string, sizeBytes: number): Promise<void>;
  waitHealthy(vm: string, app: string): Promise<void>;
}

/** The pair's side: the only writer of its table, state and history, reached through these. */
export interface FailoverContext extends FailoverActions {
  readonly log: Logger;
  readonly journal: OperationJournal | undefined;
  readonly isFaultInjectionAllowed: boolean;
  /** The app's area size in the table now (it may have grown from the pool). */
  sizeOf(app: string): number;
  /** The app serves from `vm` now: route its endpoint there and restart its supervision clock. */
  serveFrom(app: string, vm: string): void;
  /** Holds the app's endpoint (clients wait) while it serves from nowhere. */
  hold(app: string): void;
  /** Commits the plan: `change` is applied to the table current at that moment. */
  commit(kind: FailoverKind, from: string, change: (table: ResourceTable) => ResourceTable): void;
  /** Keeps a closed record in the history (and saves it). */
  keep(record: FailoverRecord): void;
  /** Stops acting: the pair goes `blocked` with `reason`. */
  block(reason: string): void;
}
