import { describe, expect, it } from 'vitest';
import { EventBus, type FailoverView, feedFromJournal, toBatonEvent } from '../../../src/daemon/events.js';
import type { JournalEvent } from '../../../src/state/journal-read.js';

const at = '2026-12-06T05:00:00.000Z';
const journalLine = (seq: number, type: string, fields: Record<string, unknown>): JournalEvent => ({
  ...fields,
  seq,
  at,
  atMs: 0,
  monoMs: 0,
  type,
});
const record: FailoverView = {
  id: 'op1',
  kind: 'whole-vm',
  trigger: 'GUEST_PANICKED on vm-a',
  app: null,
  fromVm: 'vm-a',
  toVm: 'vm-b',
  startedAt: at,
  totalMs: 665,
  result: 'succeeded',
  error: null,
  phases: [{ name: 'fence', ms: 13 }],
};

describe('toBatonEvent', () => {
  const find = (id: string) => (id === 'op1' ? record : undefined);

  it('walks a whole-VM failover from the journal as stream events', () => {
    const lines = [
      journalLine(1, 'fault', { vm: 'vm-a', signal: 'GUEST_PANICKED', action: 'failover' }),
      journalLine(2, 'operation', { opId: 'op1', kind: 'whole-vm', fromVm: 'vm-a', toVm: 'vm-b' }),
      journalLine(3, 'intent', { name: 'fence', opId: 'op1', phase: 'fence' }),
      journalLine(4, 'result', { name: 'fence', opId: 'op1', phase: 'fence', outcome: 'ok' }),
      journalLine(5, 'intent', { name: 'plug:kv', opId: 'op1', phase: 'plug', app: 'kv' }),
      journalLine(6, 'result', {
        name: 'plug:kv',
        opId: 'op1',
        phase: 'plug',
        app: 'kv',
        outcome: 'failed',
        detail: 'stuck',
      }),
      journalLine(7, 'api', { method: 'POST', url: '/v1/failover' }),
      journalLine(8, 'closed', { opId: 'op1', result: 'succeeded' }),
    ];
    expect(lines.map((line) => toBatonEvent(line, find))).toEqual([
      { type: 'fault', seq: 1, at, vm: 'vm-a', signal: 'GUEST_PANICKED', app: null, action: 'failover' },
      {
        type: 'failover',
        seq: 2,
        at,
        id: 'op1',
        state: 'started',
        kind: 'whole-vm',
        fromVm: 'vm-a',
        toVm: 'vm-b',
      },
      { type: 'phase', seq: 3, at, id: 'op1', phase: 'fence', app: null, state: 'started', detail: null },
      { type: 'phase', seq: 4, at, id: 'op1', phase: 'fence', app: null, state: 'ok', detail: null },
      { type: 'phase', seq: 5, at, id: 'op1', phase: 'plug', app: 'kv', state: 'started', detail: null },
      { type: 'phase', seq: 6, at, id: 'op1', phase: 'plug', app: 'kv', state: 'failed', detail: 'stuck' },
      undefined,
      { type: 'failover', seq: 8, at, id: 'op1', state: 'finished', result: 'succeeded', record },
    ]);
  });

  it('names the phase a failover ran outside the operation phases (reprotect) by its name', () => {
    const line = journalLine(1, 'intent', { name: 'reprotect', opId: 'op1', phase: 'commit' });
    expect(toBatonEvent(line, find)).toMatchObject({ phase: 'reprotect', app: null });
  });

  it('names an undo by its undo name, with the app it undid and the error it failed with', () => {
    const line = journalLine(1, 'result', {
      name: 'undo-plug',
      opId: 'op1',
      phase: 'plug',
      app: 'kv',
      mark: 'undo',
      outcome: 'failed',
      detail: 'device_del timed out',
    });
    expect(toBatonEvent(line, find)).toMatchObject({
      phase: 'undo-plug',
      app: 'kv',
      state: 'failed',
      detail: 'device_del timed out',
    });
  });

  it('gives an app fault its app and a finished failover without a record null', () => {
    const fault = journalLine(1, 'fault', {
      vm: 'vm-a',
      app: 'kvd',
      signal: 'crashed',
      action: 'restart-in-place',
    });
    expect(toBatonEvent(fault, find)).toMatchObject({ app: 'kvd', action: 'restart-in-place' });
    const closed = journalLine(2, 'closed', { opId: 'gone', result: 'failed' });
    expect(toBatonEvent(closed, find)).toMatchObject({ result: 'failed', record: null });
  });
});

describe('EventBus', () => {
  it('fans out, keeps recent events and the running phase of each failover', () => {
    const bus = new EventBus();
    const journalListeners: Array<(event: JournalEvent) => void> = [];
    feedFromJournal(
      {
        subscribe: (listener) => {
          journalListeners.push(listener);
          return () => undefined;
        },
      },
      bus,
      () => record,
    );
    const seen: string[] = [];
    const stop = bus.subscribe((event) => seen.push(`${event.seq}:${event.type}`));
    const emit = (line: JournalEvent) => {
      for (const listener of journalListeners) listener(line);
    };
    emit(journalLine(1, 'intent', { name: 'plug:kv', opId: 'op1', phase: 'plug', app: 'kv' }));
    expect(bus.phaseOf('op1')).toBe('plug:kv');
    emit(journalLine(2, 'api', {}));
    emit(journalLine(3, 'closed', { opId: 'op1', result: 'succeeded' }));
    expect(bus.phaseOf('op1')).toBeUndefined();
    stop();
    emit(journalLine(4, 'intent', { name: 'fence', opId: 'op2', phase: 'fence' }));
    expect(seen).toEqual(['1:phase', '3:failover']);
    expect(bus.recent().map((event) => event.seq)).toEqual([1, 3, 4]);
  });

  it('keeps at most the 200 most recent events', () => {
    const bus = new EventBus();
    for (let seq = 1; seq <= 205; seq += 1)
      bus.publish({ type: 'fault', seq, at, vm: 'vm-a', signal: 'hang', app: null, action: 'failover' });
    expect(bus.recent()).toHaveLength(200);
    expect(bus.recent()[0]?.seq).toBe(6);
  });
});
