// Journals an operation's roll-back: the rolling-back mark (saved before the first undo), each undo's intent and result.
import type { OperationJournal } from '../failover/context.js';
import type { Logger } from '../log.js';
import { beginUndo, endUndo, type InFlightOperation, startRollBack } from '../state/index.js';
import type { PairPersistence } from './persist.js';

type UndoJournal = Pick<OperationJournal, 'rollBack' | 'undoIntent' | 'undoResult'>;

/**
 * The roll-back half of the operation journal over `persistence`: each record goes to the event
 * journal (fsynced) and to the in-flight operation saved in the state. The mark waits until the
 * state holding it is saved (recovery reads the state file); an undo's intent waits for its event.
 * Bookkeeping errors are logged, never thrown: an undo is not stopped by a journal that fails.
 * The events carry `name: undo-<step>` (as the record's timeline names them), so `baton events`
 * shows `undo-plug` rather than a second `plug`.
 */
export function undoJournal(persistence: PairPersistence, log: Logger): UndoJournal {
  const update = (
    opId: string,
    what: string,
    change: (op: InFlightOperation, at: string) => InFlightOperation,
  ) => {
    const op = persistence.operations.get(opId);
    if (op === undefined) return;
    try {
      persistence.operations.set(opId, change(op, new Date().toISOString()));
      persistence.changed();
    } catch (error) {
      log.warn({ err: (error as Error).message, operation: opId }, `operation record not updated: ${what}`);
    }
  };
  const append = async (type: string, fields: Record<string, unknown>) => {
    try {
      await persistence.journal.append(type, fields);
    } catch (error) {
      log.error({ err: (error as Error).message, ...fields }, `cannot journal ${type}`);
    }
  };
  return {
    rollBack: async (opId, failure) => {
      await append('rolling-back', { opId, ...failure });
      update(opId, 'rolling back', (op, at) => startRollBack(op, failure, at));
      await persistence.flush();
    },
    undoIntent: async (opId, name, step) => {
      await append('intent', { opId, ...step, mark: 'undo', name: `undo-${name}` });
      update(opId, `undo ${name} begun`, (op, at) => beginUndo(op, step, at));
    },
    undoResult: (opId, name, step, outcome, detail) => {
      void append('result', {
        opId,
        ...step,
        mark: 'undo',
        name: `undo-${name}`,
        outcome,
        ...(detail === undefined ? {} : { detail }),
      });
      update(opId, `undo ${name} ended`, (op, at) => endUndo(op, step, outcome, at, detail));
    },
  };
}
