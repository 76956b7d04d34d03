// Waits for a failover to finish (`baton failover --wait`): its record, or its current phase at the deadline.
import { NotFoundError } from '../errors.js';
import type { EventBus, FailoverView } from './events.js';

/** The answer of `GET /v1/failovers/:id`: the finished record, or the phase a running failover is in. */
export interface FailoverWaitView {
  id: string;
  /** `running` when the wait ended before the failover did. */
  result: string;
  /** The phase a running failover began last (`plug`, `plug:kv`); null once it finished. */
  phase: string | null;
  record: FailoverView | null;
}

/** The longest wait one request may ask for. */
export const MAX_FAILOVER_WAIT_MS = 600_000;
/** A safety net beside the bus: the history is looked at this often while waiting. */
const RECHECK_MS = 1000;

/**
 * Resolves with `id`'s record once it finished, or after `waitMs` with `result: 'running'` and
 * its current phase; never changes the failover. Throws NotFoundError for an id that is neither
 * finished nor running.
 */
export async function waitForFailover(fields: {
  id: string;
  waitMs: number;
  bus: EventBus;
  findRecord: (id: string) => FailoverView | undefined;
  runningId: () => string | undefined;
}): Promise<FailoverWaitView> {
  const { id, bus, findRecord } = fields;
  const finished = (record: FailoverView): FailoverWaitView => ({
    id,
    result: record.result,
    phase: null,
    record,
  });
  const known = findRecord(id);
  if (known !== undefined) return finished(known);
  if (fields.runningId() !== id) throw new NotFoundError(`No failover ${id}: see \`baton history\``);
  const record = await new Promise<FailoverView | undefined>((resolve) => {
    const done = (value: FailoverView | undefined) => {
      unsubscribe();
      clearInterval(recheck);
      clearTimeout(deadline);
      resolve(value);
    };
    const unsubscribe = bus.subscribe((event) => {
      if (event.type === 'failover' && event.state === 'finished' && event.id === id)
        done(event.record ?? findRecord(id));
    });
    const recheck = setInterval(() => {
      const found = findRecord(id);
      if (found !== undefined) done(found);
    }, RECHECK_MS);
    const deadline = setTimeout(() => done(findRecord(id)), fields.waitMs);
  });
  if (record !== undefined) return finished(record);
  return { id, result: 'running', phase: bus.phaseOf(id) ?? null, record: null };
}
