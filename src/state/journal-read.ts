// Reads the event journal back, oldest rotation first; a torn last line or an unreadable line is skipped with a warning.
import { join } from 'node:path';
import { readRegularFile } from './durable.js';

export const JOURNAL_FILE = 'events.jsonl';

/** The name of the n-th rotation: `events.1.jsonl` is the newest. */
export function rotatedJournalFile(n: number): string {
  return `events.${n}.jsonl`;
}

/** One journal line. `at` is wall time (ISO), `atMs` the same in ms since 1970, `monoMs` the writer's monotonic clock. */
export interface JournalEvent {
  readonly seq: number;
  readonly at: string;
  readonly atMs: number;
  readonly monoMs: number;
  readonly type: string;
  readonly [field: string]: unknown;
}

export interface JournalReading {
  readonly events: JournalEvent[];
  readonly warnings: string[];
}

/** A journal file is at most a few MiB; this only guards against reading something that is not one. */
const MAX_JOURNAL_FILE_BYTES = 256 * 1024 * 1024;

/** The journal's files that exist, oldest first: events.<keep>.jsonl … events.1.jsonl, events.jsonl. */
export async function readJournalFiles(
  dir: string,
  keep: number,
): Promise<{ file: string; bytes: Buffer }[]> {
  const names = [...Array.from({ length: keep }, (_, i) => rotatedJournalFile(keep - i)), JOURNAL_FILE];
  const files: { file: string; bytes: Buffer }[] = [];
  for (const file of names) {
    const bytes = await readRegularFile(join(dir, file), MAX_JOURNAL_FILE_BYTES);
    if (bytes !== undefined) files.push({ file, bytes });
  }
  return files;
}

/** Every event in the journal in order. Lines that are not events are skipped, each with a warning. */
export async function readJournal(dir: string, options: { keep?: number } = {}): Promise<JournalReading> {
  const events: JournalEvent[] = [];
  const warnings: string[] = [];
  for (const { file, bytes } of await readJournalFiles(dir, options.keep ?? 3)) {
    const parsed = parseJournalText(bytes.toString('utf8'), file);
    events.push(...parsed.events);
    warnings.push(...parsed.warnings);
  }
  return { events, warnings };
}

/** The events in one file's text; `file` names it in warnings. */
export function parseJournalText(text: string, file: string): JournalReading {
  const events: JournalEvent[] = [];
  const warnings: string[] = [];
  const lines = text.split('\n');
  const tail = lines.pop() ?? '';
  if (tail.length > 0) {
    warnings.push(
      `${file}: the last line is torn (${Buffer.byteLength(tail)} bytes without a newline); skipped`,
    );
  }
  for (const [index, line] of lines.entries()) {
    const event = parseEvent(line);
    if (event === undefined) warnings.push(`${file}: line ${index + 1} is not a journal event; skipped`);
    else events.push(event);
  }
  return { events, warnings };
}

function parseEvent(line: string): JournalEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const event = value as Record<string, unknown>;
  if (!Number.isSafeInteger(event.seq) || typeof event.type !== 'string' || typeof event.at !== 'string') {
    return undefined;
  }
  return event as JournalEvent;
}
