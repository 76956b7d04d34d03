// Reading through the writer is in journal.test.ts; here the reader alone, on hand-made files.
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  JOURNAL_FILE,
  parseJournalText,
  readJournal,
  readJournalFiles,
  rotatedJournalFile,
} from '../../../src/state/journal-read.js';
import { tempStateDir } from './fixtures.js';

const event = (seq: number, type = 'x') => `${JSON.stringify({ seq, at: '2026-12-06T05:00:00Z', type })}\n`;

describe('parsing one journal file', () => {
  it('keeps every line with an integer seq and a string type and at, in order', () => {
    expect(parseJournalText(event(1, 'a') + event(2, 'b'), 'f').events.map((e) => e.type)).toEqual([
      'a',
      'b',
    ]);
  });

  it.each([
    ['not JSON', 'garbage'],
    ['null', 'null'],
    ['an array', '[1,2]'],
    ['a string', '"seq"'],
    ['a fractional seq', '{"seq":1.5,"at":"t","type":"x"}'],
    ['a seq past 2^53', '{"seq":9007199254740993,"at":"t","type":"x"}'],
    ['a string seq', '{"seq":"1","at":"t","type":"x"}'],
    ['no type', '{"seq":1,"at":"t"}'],
    ['a numeric at', '{"seq":1,"at":5,"type":"x"}'],
    ['an empty line', ''],
  ])('skips a line that is %s, naming its line number', (_name, line) => {
    const reading = parseJournalText(`${event(1)}${line}\n${event(3)}`, 'events.1.jsonl');
    expect(reading.events.map((e) => e.seq)).toEqual([1, 3]);
    expect(reading.warnings).toEqual(['events.1.jsonl: line 2 is not a journal event; skipped']);
  });

  it('an empty file holds no events and no warnings', () => {
    expect(parseJournalText('', 'f')).toEqual({ events: [], warnings: [] });
  });

  it('counts a torn tail in bytes, not characters', () => {
    expect(parseJournalText('{"é"', 'f').warnings).toEqual([
      'f: the last line is torn (5 bytes without a newline); skipped',
    ]);
  });
});

describe('reading the journal files', () => {
  it('names rotations so that events.1.jsonl is the newest', () => {
    expect([rotatedJournalFile(1), rotatedJournalFile(3), JOURNAL_FILE]).toEqual([
      'events.1.jsonl',
      'events.3.jsonl',
      'events.jsonl',
    ]);
  });

  it('reads the oldest rotation first and the live file last, skipping ones that are missing', async () => {
    const dir = await tempStateDir();
    await writeFile(join(dir, 'events.jsonl'), event(5));
    await writeFile(join(dir, 'events.1.jsonl'), event(4));
    await writeFile(join(dir, 'events.3.jsonl'), event(2));
    expect((await readJournalFiles(dir, 3)).map((f) => f.file)).toEqual([
      'events.3.jsonl',
      'events.1.jsonl',
      'events.jsonl',
    ]);
    expect((await readJournal(dir)).events.map((e) => e.seq)).toEqual([2, 4, 5]);
  });

  it('reads no further back than `keep` rotations', async () => {
    const dir = await tempStateDir();
    await writeFile(join(dir, 'events.2.jsonl'), event(1));
    await writeFile(join(dir, 'events.1.jsonl'), event(2));
    expect((await readJournal(dir, { keep: 1 })).events.map((e) => e.seq)).toEqual([2]);
    expect((await readJournal(dir, { keep: 0 })).events).toEqual([]);
  });

  it('gathers the warnings of every file, each naming its file', async () => {
    const dir = await tempStateDir();
    await writeFile(join(dir, 'events.1.jsonl'), `oops\n${event(1)}`);
    await writeFile(join(dir, 'events.jsonl'), `${event(2)}{"seq":3`);
    expect((await readJournal(dir)).warnings).toEqual([
      'events.1.jsonl: line 1 is not a journal event; skipped',
      'events.jsonl: the last line is torn (8 bytes without a newline); skipped',
    ]);
  });

  it('refuses a journal file that is a symbolic link', async () => {
    const dir = await tempStateDir();
    await writeFile(join(dir, 'elsewhere'), event(1));
    await symlink(join(dir, 'elsewhere'), join(dir, 'events.jsonl'));
    await expect(readJournal(dir)).rejects.toMatchObject({ code: 'STATE_UNSAFE' });
  });
});
