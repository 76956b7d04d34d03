// The append-only event journal events.jsonl: one fsynced JSON line per event, rotated by size.
import { constants } from 'node:fs';
import { type FileHandle, open, rename, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { ensurePrivateDir, syncDir } from './durable.js';
import {
  JOURNAL_FILE,
  type JournalEvent,
  type JournalReading,
  parseJournalText,
  readJournal,
  readJournalFiles,
  rotatedJournalFile,
} from './journal-read.js';
import type { OperationPhase, PhaseOutcome, StepRef } from './types.js';

export const DEFAULT_JOURNAL_MAX_BYTES = 1024 * 1024;
export const DEFAULT_JOURNAL_KEEP = 3;

export interface JournalOptions {
  /** events.jsonl is rotated before an append would take it past this size. Default 1 MiB. */
  maxBytes?: number;
  /** How many rotated files (events.1.jsonl … events.<keep>.jsonl) are kept. Default 3, at least 1. */
  keep?: number;
  log?: Logger;
  /** Wall clock and monotonic clock, for tests. */
  now?: () => Date;
  monotonicMs?: () => number;
}

/**
 * Appends are serialized and each is fsynced (fdatasync) before it resolves: no group commit, so
 * an event that was reported written survives a crash. Sequence numbers continue across restarts.
 */
export class EventJournal {
  readonly dir: string;
  /** What open found and repaired (a torn last line cut off). */
  readonly openWarnings: readonly string[];
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly options: JournalOptions;
  private seq: number;
  private sizeBytes: number;
  private handle: FileHandle | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(event: JournalEvent) => void>();

  private constructor(
    dir: string,
    options: JournalOptions,
    state: { seq: number; sizeBytes: number; warnings: string[] },
  ) {
    this.dir = dir;
    this.options = options;
    this.maxBytes = options.maxBytes ?? DEFAULT_JOURNAL_MAX_BYTES;
    this.keep = Math.max(1, options.keep ?? DEFAULT_JOURNAL_KEEP);
    this.seq = state.seq;
    this.sizeBytes = state.sizeBytes;
    this.openWarnings = state.warnings;
  }

  /**
   * Opens the journal in `dir`: finds the last sequence number, and cuts a torn last line off
   * events.jsonl (a crash mid-append) so the next line does not join it.
   */
  static async open(dir: string, options: JournalOptions = {}): Promise<EventJournal> {
    await ensurePrivateDir(dir);
    const keep = Math.max(1, options.keep ?? DEFAULT_JOURNAL_KEEP);
    const files = await readJournalFiles(dir, keep);
    const warnings: string[] = [];
    let seq = 0;
    let sizeBytes = 0;
    for (const { file, bytes } of files) {
      const { events } = parseJournalText(bytes.toString('utf8'), file);
      for (const event of events) seq = Math.max(seq, event.seq);
      if (file !== JOURNAL_FILE) continue;
      const keptBytes = bytes.lastIndexOf(0x0a) + 1;
      if (keptBytes < bytes.length) {
        await truncate(join(dir, file), keptBytes);
        warnings.push(
          `${file}: cut off a torn last line (${bytes.length - keptBytes} bytes) left by an append that did not complete`,
        );
      }
      sizeBytes = keptBytes;
    }
    for (const warning of warnings) options.log?.warn({ stateDir: dir }, warning);
    return new EventJournal(dir, options, { seq, sizeBytes, warnings });
  }

  /** Appends one event; resolves once it is on disk. `fields` cannot override seq, at, atMs, monoMs or type. */
  append(type: string, fields: Readonly<Record<string, unknown>> = {}): Promise<JournalEvent> {
    const run = this.queue.then(() => this.appendNow(type, fields));
    // The queue only orders appends; each caller sees its own result or error.
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Written before a failover phase acts. */
  intent(
    opId: string,
    phase: OperationPhase | StepRef,
    details: Readonly<Record<string, unknown>> = {},
  ): Promise<JournalEvent> {
    return this.append('intent', { ...details, opId, ...stepFields(phase) });
  }

  /** Written after a failover phase acted, with what came of it. */
  result(
    opId: string,
    phase: OperationPhase | StepRef,
    outcome: PhaseOutcome,
    details: Readonly<Record<string, unknown>> = {},
  ): Promise<JournalEvent> {
    return this.append('result', { ...details, opId, ...stepFields(phase), outcome });
  }

  /**
   * Calls `listener` with every event once it is on disk, in journal order; returns the function
   * that stops it. A listener that throws is logged and does not fail the append.
   */
  subscribe(listener: (event: JournalEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every event, oldest first, once the appends already asked for are written. */
  async readAll(): Promise<JournalReading> {
    await this.queue;
    return readJournal(this.dir, { keep: this.keep });
  }

  async close(): Promise<void> {
    await this.queue;
    await this.handle?.close();
    this.handle = undefined;
  }

  private async appendNow(type: string, fields: Readonly<Record<string, unknown>>): Promise<JournalEvent> {
    const date = this.options.now?.() ?? new Date();
    const monoMs = Math.round((this.options.monotonicMs?.() ?? performance.now()) * 10) / 10;
    const event: JournalEvent = {
      ...fields,
      seq: this.seq + 1,
      at: date.toISOString(),
      atMs: date.getTime(),
      monoMs,
      type,
    };
    const line = `${JSON.stringify(event)}\n`;
    const lineBytes = Buffer.byteLength(line);
    if (this.sizeBytes > 0 && this.sizeBytes + lineBytes > this.maxBytes) await this.rotate();
    const handle = await this.openCurrent();
    try {
      await handle.write(line);
      await handle.datasync();
    } catch (error) {
      // Cut a partial line off so the next append starts on a line of its own; the append still fails.
      await handle.truncate(this.sizeBytes).catch(() => undefined);
      throw error;
    }
    this.sizeBytes += lineBytes;
    this.seq = event.seq;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.options.log?.error({ err: (error as Error).message, type }, 'a journal listener failed');
      }
    }
    return event;
  }

  private async openCurrent(): Promise<FileHandle> {
    if (this.handle !== undefined) return this.handle;
    const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
    this.handle = await open(join(this.dir, JOURNAL_FILE), flags, 0o600);
    if (this.sizeBytes === 0) await syncDir(this.dir); // The file may be new: make its name durable.
    return this.handle;
  }

  /** events.<keep-1> → events.<keep> (dropping the oldest), …, events.jsonl → events.1.jsonl. */
  private async rotate(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    for (let n = this.keep; n >= 1; n -= 1) {
      const from = n === 1 ? JOURNAL_FILE : rotatedJournalFile(n - 1);
      try {
        await rename(join(this.dir, from), join(this.dir, rotatedJournalFile(n)));
      } catch (error) {
        // A rotation that was never made (a young journal) has nothing to move.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    await syncDir(this.dir);
    this.sizeBytes = 0;
    this.options.log?.info({ stateDir: this.dir }, `rotated ${JOURNAL_FILE}`);
  }
}

function stepFields(phase: OperationPhase | StepRef): { phase: OperationPhase; app?: string } {
  if (typeof phase === 'string') return { phase };
  return phase.app === undefined ? { phase: phase.phase } : { phase: phase.phase, app: phase.app };
}
