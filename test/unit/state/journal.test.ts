import { appendFile, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventJournal } from '../../../src/state/journal.js';
import { readJournal } from '../../../src/state/journal-read.js';
import { tempStateDir } from './fixtures.js';

const clock = { now: () => new Date('2025-01-01T00:00:00.000Z'), monotonicMs: () => 1234.56 };

describe('EventJournal', () => {
  it('appends one JSON line per event with seq, wall time and monotonic time', async () => {
    const dir = await tempStateDir();
    const journal = await EventJournal.open(dir, clock);
    await journal.append('daemon-started', { pid: 42 });
    await journal.close();
    expect(await readFile(join(dir, 'events.jsonl'), 'utf8')).toBe(
      '{"pid":42,"seq":1,"at":"2025-01-01T00:00:00.000Z","atMs":1735689600000,"monoMs":1234.6,"type":"daemon-started"}\n',
    );
  });

  it('tells subscribers of each event once it is written, in order, until they stop', async () => {
    const journal = await EventJournal.open(await tempStateDir(), clock);
    const seen: string[] = [];
    const stop = journal.subscribe((event) => seen.push(`${event.seq}:${event.type}`));
    journal.subscribe(() => {
      throw new Error('a broken listener');
    });
    await Promise.all(['a', 'b'].map((type) => journal.append(type)));
    stop();
    await journal.append('c');
    await journal.close();
    expect(seen).toEqual(['1:a', '2:b']);
  });

  it('creates events.jsonl with mode 0600', async () => {
    const dir = await tempStateDir();
    const journal = await EventJournal.open(dir);
    await journal.append('x');
    await journal.close();
    expect((await stat(join(dir, 'events.jsonl'))).mode & 0o777).toBe(0o600);
  });

  it('reads back every event in order', async () => {
    const journal = await EventJournal.open(await tempStateDir());
    await Promise.all(['a', 'b', 'c'].map((type) => journal.append(type)));
    const { events, warnings } = await journal.readAll();
    expect([events.map((event) => `${event.seq}:${event.type}`), warnings]).toEqual([
      ['1:a', '2:b', '3:c'],
      [],
    ]);
  });

  it('does not let fields override the sequence number or the type', async () => {
    const journal = await EventJournal.open(await tempStateDir());
    const event = await journal.append('real', { seq: 99, type: 'forged' });
    expect([event.seq, event.type]).toEqual([1, 'real']);
  });

  it('continues the sequence numbers after a reopen', async () => {
    const dir = await tempStateDir();
    const first = await EventJournal.open(dir);
    await first.append('a');
    await first.append('b');
    await first.close();
    const second = await EventJournal.open(dir);
    expect((await second.append('c')).seq).toBe(3);
  });

  it('writes the intent and the result of a phase, naming operation, phase and app', async () => {
    const journal = await EventJournal.open(await tempStateDir());
    await journal.intent('op-1', { phase: 'plug', app: 'kv' }, { sizeBytes: 134217728 });
    await journal.result('op-1', { phase: 'plug', app: 'kv' }, 'ok', { pluggedBytes: 134217728 });
    const { events } = await journal.readAll();
    expect(events).toMatchObject([
      { type: 'intent', opId: 'op-1', phase: 'plug', app: 'kv', sizeBytes: 134217728 },
      { type: 'result', opId: 'op-1', phase: 'plug', app: 'kv', outcome: 'ok', pluggedBytes: 134217728 },
    ]);
  });

  it('rotates events.jsonl to events.1.jsonl before it would pass maxBytes', async () => {
    const dir = await tempStateDir();
    const journal = await EventJournal.open(dir, { ...clock, maxBytes: 400 });
    for (let i = 0; i < 4; i += 1) await journal.append('tick', { pad: 'x'.repeat(80) });
    expect((await readdir(dir)).sort()).toEqual(['events.1.jsonl', 'events.jsonl']);
    expect((await stat(join(dir, 'events.jsonl'))).size).toBeLessThanOrEqual(400);
  });

  it('keeps only `keep` rotations, dropping the oldest events', async () => {
    const dir = await tempStateDir();
    const journal = await EventJournal.open(dir, { ...clock, maxBytes: 150, keep: 2 });
    for (let i = 0; i < 6; i += 1) await journal.append('tick', { pad: 'x'.repeat(80) });
    const { events } = await journal.readAll();
    expect((await readdir(dir)).sort()).toEqual(['events.1.jsonl', 'events.2.jsonl', 'events.jsonl']);
    expect(events.map((event) => event.seq)).toEqual([4, 5, 6]);
  });

  it('skips a torn last line on read, with a warning', async () => {
    const dir = await tempStateDir();
    const journal = await EventJournal.open(dir);
    await journal.append('a');
    await journal.close();
    await appendFile(join(dir, 'events.jsonl'), '{"seq":2,"at":"2025-01-0');
    const { events, warnings } = await readJournal(dir);
    expect(events.map((event) => event.type)).toEqual(['a']);
    expect(warnings).toEqual(['events.jsonl: the last line is torn (24 bytes without a newline); skipped']);
  });

  it('skips a corrupt line in the middle, with a warning naming it', async () => {
    const dir = await tempStateDir();
    const journal = await EventJournal.open(dir);
    await journal.append('a');
    await appendFile(join(dir, 'events.jsonl'), 'garbage\n');
    await journal.append('b');
    const { events, warnings } = await journal.readAll();
    expect(events.map((event) => event.type)).toEqual(['a', 'b']);
    expect(warnings).toEqual(['events.jsonl: line 2 is not a journal event; skipped']);
  });

  it('cuts a torn last line off at open, so the next event starts on its own line', async () => {
    const dir = await tempStateDir();
    const first = await EventJournal.open(dir);
    await first.append('a');
    await first.close();
    await appendFile(join(dir, 'events.jsonl'), '{"seq":2,"at":"2025-01-0');
    const second = await EventJournal.open(dir);
    await second.append('b');
    const { events, warnings } = await second.readAll();
    expect(second.openWarnings).toEqual([
      'events.jsonl: cut off a torn last line (24 bytes) left by an append that did not complete',
    ]);
    expect([events.map((event) => `${event.seq}:${event.type}`), warnings]).toEqual([['1:a', '2:b'], []]);
  });

  it('reads an empty journal when the directory has none', async () => {
    expect(await readJournal(await tempStateDir())).toEqual({ events: [], warnings: [] });
  });
});
