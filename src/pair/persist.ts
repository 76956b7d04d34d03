// Saves the pair's state (table, operations, history) and its VMs' identities; journals failover phases.
import type { Logger } from '../log.js';
import type { AttachDoc, VmIdentity } from '../recovery/identity.js';
import { loadAttachDoc, saveAttachDoc } from '../recovery/identity.js';
import type { FailoverRecord } from '../state/history.js';
import {
  beginPhase,
  createOperation,
  EventJournal,
  endPhase,
  type InFlightOperation,
  isOperationPhase,
  type LoadedState,
  type OperationPhase,
  type PhaseOutcome,
  STATE_SCHEMA_VERSION,
  type StateDoc,
  StateStore,
  type StepRef,
} from '../state/index.js';
import type { ResourceTable } from '../table/types.js';
import type { PairVm } from './vm-factory.js';

/** What the persister reads from the pair at each save. */
export interface PersistedView {
  readonly table: ResourceTable;
  readonly history: readonly FailoverRecord[];
  readonly vms: ReadonlyMap<string, PairVm>;
  readonly roles: { readonly active: string; readonly standby: string };
  endpointPorts(): Record<string, number>;
}

/**
 * Coalesces saves: a change while a save runs marks the state dirty and one more save follows,
 * so callers never wait on the disk (except `flush`). The doc's epoch is the table's, raised
 * above the last saved one when only the history or an operation changed.
 */
export class PairPersistence {
  readonly store: StateStore;
  readonly journal: EventJournal;
  readonly stateDir: string;
  readonly operations = new Map<string, InFlightOperation>();
  private readonly log: Logger;
  private view: PersistedView | undefined;
  private savedEpoch: number;
  private isDirty = false;
  private running: Promise<void> | undefined;
  private isClosed = false;
  private savesStarted = 0;

  private constructor(fields: { stateDir: string; log: Logger; store: StateStore; journal: EventJournal }) {
    this.stateDir = fields.stateDir;
    this.log = fields.log;
    this.store = fields.store;
    this.journal = fields.journal;
    this.savedEpoch = 0;
  }

  /**
   * Loads the state directory (the state store verifies the current copy and falls back to the
   * previous one, with warnings) and the re-attach record, and opens the journal.
   */
  static async open(
    stateDir: string,
    options: { log: Logger },
  ): Promise<{
    persistence: PairPersistence;
    loaded: LoadedState;
    attach: AttachDoc | undefined;
    warnings: string[];
  }> {
    const store = new StateStore(stateDir, { log: options.log });
    const loaded = await store.load();
    const journal = await EventJournal.open(stateDir, { log: options.log });
    const attach = await loadAttachDoc(stateDir);
    const persistence = new PairPersistence({ stateDir, log: options.log, store, journal });
    if (loaded.doc !== undefined) {
      persistence.savedEpoch = loaded.doc.epoch;
      for (const op of loaded.doc.operations) persistence.operations.set(op.id, op);
    }
    const warnings = [
      ...loaded.warnings,
      ...journal.openWarnings,
      ...(attach.warning === undefined ? [] : [attach.warning]),
    ];
    return { persistence, loaded, attach: attach.doc, warnings };
  }

  /** Starts saving `view` on every change. */
  bind(view: PersistedView): void {
    this.view = view;
  }

  /** Something persisted changed: save soon (serialized, coalesced). */
  changed(): void {
    if (this.view === undefined || this.isClosed) return;
    this.isDirty = true;
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /**
   * What a reader of the state directory needs to tell a save under way from a leaked temp file:
   * whether a save runs or is due, and how many have started (a count that did not move between two
   * looks means no save ran in between).
   */
  get saves(): { isSaving: boolean; started: number } {
    return { isSaving: this.running !== undefined || this.isDirty, started: this.savesStarted };
  }

  /** Resolves once every change asked for so far is on disk. */
  async flush(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  async close(): Promise<void> {
    await this.flush();
    this.isClosed = true;
    await this.journal.close();
  }

  /** Journals a fault baton acts on (a VM's or an app's), for the record and `baton events`; never throws. */
  noteFault(fields: { vm: string; signal: string; action: string; app?: string }): void {
    void this.journal
      .append('fault', fields)
      .catch((error: Error) => this.log.error({ err: error.message, ...fields }, 'cannot journal a fault'));
  }

  /** Opens an in-flight operation (saved with the next state). */
  open(fields: Parameters<typeof createOperation>[0]): InFlightOperation {
    const op = createOperation(fields);
    this.operations.set(op.id, op);
    void this.journal.append('operation', { opId: op.id, kind: op.kind, fromVm: op.fromVm, toVm: op.toVm });
    this.changed();
    return op;
  }

  /** Drops a finished operation (its result is in the history and the journal). */
  closeOperation(id: string, result: string): void {
    if (!this.operations.delete(id)) return;
    void this.journal.append('closed', { opId: id, result }).catch(() => undefined);
    this.changed();
  }

  /**
   * Journals the intent of phase `name` (`plug` or `plug:kv`) of `opId` and waits for its fsync,
   * so the intent is on disk before the phase acts. Bookkeeping errors are logged, never thrown.
   */
  async intent(opId: string, name: string): Promise<void> {
    const step = stepOf(name);
    try {
      await this.journal.intent(opId, step ?? ('commit' as OperationPhase), { name });
    } catch (error) {
      this.log.error({ err: (error as Error).message, phase: name }, 'cannot journal a phase intent');
    }
    const op = this.operations.get(opId);
    if (op !== undefined && step !== undefined) {
      try {
        this.operations.set(
          opId,
          beginPhase(op, step.app === undefined ? step.phase : step, new Date().toISOString()),
        );
      } catch (error) {
        this.log.warn({ err: (error as Error).message, phase: name }, 'operation record not advanced');
      }
    }
    this.changed();
  }

  /** Journals the result of phase `name`; does not wait for the disk. */
  result(opId: string, name: string, outcome: PhaseOutcome, detail?: string): void {
    const step = stepOf(name);
    void this.journal
      .result(opId, step ?? ('commit' as OperationPhase), outcome, {
        name,
        ...(detail === undefined ? {} : { detail }),
      })
      .catch((error: Error) =>
        this.log.error({ err: error.message, phase: name }, 'cannot journal a result'),
      );
    const op = this.operations.get(opId);
    if (op !== undefined && step !== undefined && op.phaseState === 'intent') {
      try {
        const ref = step.app === undefined ? step.phase : step;
        this.operations.set(opId, endPhase(op, ref, outcome, new Date().toISOString(), detail));
      } catch (error) {
        this.log.warn({ err: (error as Error).message, phase: name }, 'operation record not ended');
      }
    }
    this.changed();
  }

  private async drain(): Promise<void> {
    while (this.isDirty && this.view !== undefined) {
      // Let the change that called us finish (a commit sets the table, then the roles and VMs).
      await new Promise((resolve) => setImmediate(resolve));
      this.isDirty = false;
      this.savesStarted += 1;
      const view = this.view;
      const epoch = Math.max(view.table.epoch, this.savedEpoch + 1);
      const doc: StateDoc = {
        schemaVersion: STATE_SCHEMA_VERSION,
        epoch,
        table: view.table,
        operations: [...this.operations.values()],
        history: view.history.filter((record) => record.result !== 'running'),
      };
      try {
        await saveAttachDoc(this.stateDir, attachDocOf(view));
        await this.store.save(doc);
        this.savedEpoch = epoch;
      } catch (error) {
        this.log.error({ err: (error as Error).message, epoch }, 'saving the state failed');
      }
    }
  }
}

/** `plug:kv` → { phase: 'plug', app: 'kv' }; names that are not operation phases (reprotect) → undefined. */
export function stepOf(name: string): StepRef | undefined {
  const [phase, app] = name.split(':');
  if (phase === undefined || !isOperationPhase(phase)) return undefined;
  return app === undefined ? { phase } : { phase, app };
}

export function attachDocOf(view: PersistedView): AttachDoc {
  const vms: VmIdentity[] = [...view.vms.values()].map((vm) => ({
    name: vm.machine.spec.name,
    role: view.roles.active === vm.machine.spec.name ? 'active' : 'standby',
    pid: vm.machine.pid,
    startTime: vm.machine.startTime,
    runDir: vm.machine.spec.runDir,
    forwards: Object.fromEntries(vm.forwards),
    spec: vm.machine.spec,
  }));
  return { version: 1, savedAt: new Date().toISOString(), vms, endpointPorts: view.endpointPorts() };
}
