// One daemon per state directory: a lock file naming the holder's pid and start time.
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError } from '../errors.js';
import { processStartTime } from '../recovery/identity.js';

export interface StateLock {
  path: string;
  release(): Promise<void>;
}

/** The start time (clock ticks after boot) of `pid` from /proc, or undefined if it is gone: the one reader in recovery/identity.ts. */
export const processStartTicks: (pid: number) => string | undefined = processStartTime;

/**
 * Takes `<stateDir>/baton.lock`. A lock whose holder is alive (same pid and start time, so a
 * reused pid does not count) is refused with ConflictError; a stale one is replaced.
 */
export async function acquireStateLock(stateDir: string): Promise<StateLock> {
  const path = join(stateDir, 'baton.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid} ${processStartTicks(process.pid) ?? '?'}\n`);
      await handle.sync();
      await handle.close();
      return { path, release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const [pidText, ticks] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
    const pid = Number(pidText);
    if (Number.isInteger(pid) && pid > 0 && ticks !== undefined && processStartTicks(pid) === ticks) {
      throw new ConflictError(`Another baton daemon (pid ${pid}) holds the state directory ${stateDir}`);
    }
    await rm(path, { force: true }); // Stale: its holder is gone.
  }
  throw new ConflictError(`Cannot take the lock ${path}: it keeps reappearing`);
}
