// Scratch folders of demo and bench runs that were killed before they could stop their guests:
// found by an owner file whose process is gone, their QEMUs stopped and the folders removed.
import { rmSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { createScratchDir, SCRATCH_OWNER_FILE, scratchParent } from '../vm/scratch-dir.js';
import { processStartTime } from './identity.js';
import { stopQemusUnder } from './launches.js';

/** This process as an owner file names it: `<pid> <start time>`. */
export function ownOwnerText(): string {
  return `${process.pid} ${processStartTime(process.pid) ?? '0'}`;
}

/** Whether the owner text names a process that still runs (the same pid with the same start time). */
export function isOwnerAlive(text: string): boolean {
  const match = /^(\d+) (\d+)\s*$/.exec(text);
  if (match === null) return false;
  return processStartTime(Number(match[1])) === match[2];
}

/**
 * Stops the QEMUs of every `<prefix>-*` scratch folder whose owner is gone (or that has no owner
 * file: made by an older run) and removes the folder. Returns one line per QEMU stopped or folder removed.
 */
export async function sweepAbandonedScratchDirs(
  prefix: string,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const parent = scratchParent(env);
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const lines: string[] = [];
  for (const entry of entries.filter((name) => name.startsWith(`${prefix}-`)).sort()) {
    const dir = join(parent, entry);
    const owner = await readFile(join(dir, SCRATCH_OWNER_FILE), 'utf8').catch(() => '');
    if (isOwnerAlive(owner)) continue;
    const reason = `left behind by a ${prefix} run that ended without stopping its guests`;
    lines.push(...(await stopQemusUnder(dir, { log, reason })));
    await rm(dir, { recursive: true, force: true });
    lines.push(`removed the abandoned scratch folder ${dir}`);
  }
  return lines;
}

/** A scratch folder of this run, with what removes it. */
export interface ScratchDir {
  dir: string;
  /** Stops any QEMU the run left under the folder, then removes the folder and the signal handlers. */
  remove: () => Promise<void>;
}

const GUARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const STOP_PASSES = 20;

/**
 * Stops the QEMUs under `dir` again and again until a pass finds none: the run goes on while its
 * first guests are stopped, and its pair may launch another (a standby to replace a lost VM).
 */
async function stopUntilNone(
  dir: string,
  options: { log: Logger; reason: string },
  say: (line: string) => void,
): Promise<void> {
  for (let pass = 0; pass < STOP_PASSES; pass += 1) {
    const lines = await stopQemusUnder(dir, options);
    for (const line of lines) say(line);
    if (lines.length === 0) return;
  }
}

/**
 * A scratch folder for this run, after sweeping abandoned ones of the same prefix (their lines go
 * to `say`). Until `remove`, SIGINT, SIGTERM and SIGHUP stop every QEMU under the folder, remove
 * it and then end the process by the same signal: QEMUs run in their own sessions and would
 * outlive a run interrupted from the terminal.
 */
export async function freshScratchDir(
  prefix: string,
  log: Logger,
  say: (line: string) => void,
): Promise<ScratchDir> {
  for (const line of await sweepAbandonedScratchDirs(prefix, log)) say(line);
  const dir = await createScratchDir(prefix, ownOwnerText());
  const onSignal = (signal: NodeJS.Signals) => {
    release();
    say(`${signal}: stopping the guests of this ${prefix} run ...`);
    void stopUntilNone(dir, { log, reason: `the ${prefix} run got ${signal}` }, say)
      .catch((error: unknown) => say(`stopping the guests under ${dir} failed: ${(error as Error).message}`))
      .finally(() => {
        // Synchronous from the last pass that found no QEMU to the end: nothing can launch between.
        rmSync(dir, { recursive: true, force: true });
        process.kill(process.pid, signal);
      });
  };
  const release = () => {
    for (const signal of GUARDED_SIGNALS) process.off(signal, onSignal);
  };
  for (const signal of GUARDED_SIGNALS) process.on(signal, onSignal);
  return {
    dir,
    remove: async () => {
      release();
      // A pair whose stop failed (or never ran) may have left its QEMUs running under the folder.
      await stopUntilNone(dir, { log, reason: `the ${prefix} run ended` }, say);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
