// The state directory: state.json and the copy before it, saved crash-safely, verified on load.
import { link, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BatonError, InvalidInputError, StaleEpochError, StateCorruptError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  ensurePrivateDir,
  exists,
  quarantine,
  readRegularFile,
  syncDir,
  writeNewFileSynced,
} from './durable.js';
import { encodeEnvelope } from './envelope.js';
import { MIGRATIONS, type MigrationRegistry } from './migrations.js';
import { readStateFile, type StateFileReading } from './read.js';
import { describeSchemaProblem, stateDocSchema } from './schema.js';
import { HISTORY_LIMIT, type LoadedState, type StateDoc } from './types.js';

export const CURRENT_FILE = 'state.json';
export const PREVIOUS_FILE = 'state.prev.json';
export const TEMP_FILE = 'state.json.tmp';
export const PREVIOUS_TEMP_FILE = 'state.prev.json.tmp';

export interface StateStoreOptions {
  log?: Logger;
  /** Default: MIGRATIONS (none yet). Tests pass their own to exercise the hook. */
  migrations?: MigrationRegistry;
  /** Called after each step of a save; a test throws from it to stop a save part-way, as a crash would. */
  onSaveStep?: (step: SaveStep) => void | Promise<void>;
}

/** The steps of a save, in order (see StateStore.save). */
export type SaveStep =
  | 'temp-written'
  | 'previous-linked'
  | 'previous-replaced'
  | 'current-replaced'
  | 'dir-synced';

/**
 * One state directory, used by one daemon (the caller holds the directory's lock). Saves are
 * serialized. Every save re-reads the stored epoch, so a writer that fell behind is refused.
 */
export class StateStore {
  readonly dir: string;
  private readonly log: Logger | undefined;
  private readonly migrations: MigrationRegistry;
  private readonly onSaveStep: StateStoreOptions['onSaveStep'];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(dir: string, options: StateStoreOptions = {}) {
    this.dir = dir;
    this.log = options.log;
    this.migrations = options.migrations ?? MIGRATIONS;
    this.onSaveStep = options.onSaveStep;
  }

  /**
   * The newest usable document. A current file that fails verification (or is missing) falls back
   * to the previous copy with a warning, and is kept as `state.json.corrupt-<time>`. No usable
   * file while files exist throws StateCorruptError; a version no migration reaches throws
   * StateVersionError; `empty` means no state file exists. Leftover temp files are removed.
   */
  load(): Promise<LoadedState> {
    return this.serialized(() => this.loadNow());
  }

  /**
   * Saves `doc` (history trimmed to the last HISTORY_LIMIT). Its epoch must be above the stored
   * one (else StaleEpochError). When this resolves the new state is durable; if the process dies
   * before, the directory holds the old state and, at every instant, at least one valid copy:
   *  1. write state.json.tmp (0600, O_EXCL|O_NOFOLLOW), fsync it, read it back and verify it;
   *  2. link state.json to state.prev.json.tmp, rename that over state.prev.json (the previous
   *     copy is replaced atomically by the current one; state.json stays in place);
   *  3. rename state.json.tmp over state.json (atomic: old or new, never neither);
   *  4. fsync the directory.
   * Each file a name points to is complete and fsynced before the rename that exposes it, so
   * whichever renames reach the disk, both names hold a valid state. A corrupt state.json is
   * moved aside in step 2 instead of becoming the previous copy.
   */
  save(doc: StateDoc): Promise<void> {
    return this.serialized(() => this.saveNow(doc));
  }

  private async loadNow(): Promise<LoadedState> {
    await ensurePrivateDir(this.dir);
    const warnings: string[] = [];
    for (const leftover of [TEMP_FILE, PREVIOUS_TEMP_FILE]) {
      if (await exists(this.path(leftover))) {
        await rm(this.path(leftover), { force: true });
        warnings.push(`removed ${leftover} left by a save that did not complete`);
      }
    }
    const current = await this.read(CURRENT_FILE);
    if (current.status === 'unknown-version') throw current.error;
    const previous = await this.read(PREVIOUS_FILE);
    if (current.status === 'usable') {
      if (previous.status === 'unusable') {
        warnings.push(`${PREVIOUS_FILE} ${previous.reason}; there is no usable previous copy`);
        warnings.push(await this.setAside(PREVIOUS_FILE));
      }
      if (previous.status === 'unknown-version') warnings.push(previous.error.message);
      return this.loaded('current', current.doc, [...warnings, ...current.notes]);
    }
    if (previous.status === 'unknown-version') throw previous.error;
    if (previous.status === 'usable') {
      const reason = current.status === 'missing' ? 'is missing' : current.reason;
      warnings.push(`${CURRENT_FILE} ${reason}; using ${PREVIOUS_FILE} (epoch ${previous.doc.epoch})`);
      if (current.status === 'unusable') warnings.push(await this.setAside(CURRENT_FILE));
      return this.loaded('previous', previous.doc, [...warnings, ...previous.notes]);
    }
    if (current.status === 'missing' && previous.status === 'missing') {
      return this.loaded('empty', undefined, warnings);
    }
    throw new StateCorruptError({ dir: this.dir, problems: describeBoth(current, previous) });
  }

  private async saveNow(input: StateDoc): Promise<void> {
    const doc: StateDoc = { ...input, history: input.history.slice(-HISTORY_LIMIT) };
    const checked = stateDocSchema.safeParse(doc);
    if (!checked.success) {
      throw new InvalidInputError(
        `Refusing to save state epoch ${input.epoch}: ${describeSchemaProblem(checked.error)}`,
      );
    }
    await ensurePrivateDir(this.dir);
    const current = await this.read(CURRENT_FILE);
    if (current.status === 'unknown-version') throw current.error;
    let storedEpoch = current.status === 'usable' ? current.doc.epoch : 0;
    if (current.status !== 'usable') {
      const previous = await this.read(PREVIOUS_FILE);
      if (previous.status === 'unknown-version') throw previous.error;
      if (previous.status === 'usable') storedEpoch = previous.doc.epoch;
      else if (current.status !== 'missing' || previous.status !== 'missing') {
        throw new StateCorruptError({ dir: this.dir, problems: describeBoth(current, previous) });
      }
    }
    if (doc.epoch <= storedEpoch) throw new StaleEpochError({ epoch: doc.epoch, storedEpoch, dir: this.dir });

    await this.writeTemp(encodeEnvelope(doc));
    // A step that fails leaves no temp file behind; a save stopped by `onSaveStep` (a test's
    // crash) leaves the files as a crash would, for the next load to clean up.
    let isStoppedByHook = false;
    const reached = async (step: SaveStep) => {
      try {
        await this.onSaveStep?.(step);
      } catch (error) {
        isStoppedByHook = true;
        throw error;
      }
    };
    try {
      await reached('temp-written');
      if (current.status === 'usable') {
        await rm(this.path(PREVIOUS_TEMP_FILE), { force: true });
        await link(this.path(CURRENT_FILE), this.path(PREVIOUS_TEMP_FILE));
        await reached('previous-linked');
        await rename(this.path(PREVIOUS_TEMP_FILE), this.path(PREVIOUS_FILE));
        await reached('previous-replaced');
      } else if (current.status === 'unusable') {
        this.warn(`${CURRENT_FILE} ${current.reason} at save; ${await this.setAside(CURRENT_FILE)}`);
      }
      await rename(this.path(TEMP_FILE), this.path(CURRENT_FILE));
      await reached('current-replaced');
      await syncDir(this.dir);
      await reached('dir-synced');
    } catch (error) {
      if (!isStoppedByHook) await this.removeTempFiles();
      throw error;
    }
  }

  /** After a failed step: the temp file and the previous copy's link go (state.json is untouched). */
  private async removeTempFiles(): Promise<void> {
    for (const file of [TEMP_FILE, PREVIOUS_TEMP_FILE]) {
      // The save's own error is what the caller needs; a temp file that cannot be removed now is
      // removed by the next load, so this failure is logged, not thrown.
      await rm(this.path(file), { force: true }).catch((error: Error) =>
        this.warn(`cannot remove ${file} after a failed save: ${error.message}`),
      );
    }
  }

  /** Step 1: the new file, fsynced and read back; on any failure no temp file is left behind. */
  private async writeTemp(text: string): Promise<void> {
    const path = this.path(TEMP_FILE);
    await rm(path, { force: true });
    try {
      await writeNewFileSynced(path, text);
      const written = await readRegularFile(path);
      if (written?.toString('utf8') !== text) {
        throw new BatonError(
          'STATE_WRITE_FAILED',
          `${TEMP_FILE} in ${this.dir} did not read back as written`,
        );
      }
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
  }

  private read(file: string): Promise<StateFileReading> {
    return readStateFile(this.path(file), file, this.migrations);
  }

  private async setAside(file: string): Promise<string> {
    const kept = await quarantine(this.path(file));
    return `kept the unusable ${file} as ${kept.slice(this.dir.length + 1)} for inspection`;
  }

  private loaded(source: LoadedState['source'], doc: StateDoc | undefined, warnings: string[]): LoadedState {
    for (const warning of warnings) this.warn(warning);
    if (source === 'empty' || doc === undefined) return { source: 'empty', doc: undefined, warnings };
    return { source, doc, warnings };
  }

  private warn(message: string): void {
    this.log?.warn({ stateDir: this.dir }, message);
  }

  private path(file: string): string {
    return join(this.dir, file);
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    // The queue only orders calls; each caller sees its own result or error.
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function describeBoth(current: StateFileReading, previous: StateFileReading): string[] {
  const describe = (file: string, reading: StateFileReading) =>
    reading.status === 'unusable' ? `${file} ${reading.reason}` : `${file} is missing`;
  return [describe(CURRENT_FILE, current), describe(PREVIOUS_FILE, previous)];
}
