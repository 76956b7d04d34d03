// File steps the state layer builds on: private dir check, fsynced create, dir fsync, reads that never follow links.
import { constants } from 'node:fs';
import { lstat, mkdir, open, rename } from 'node:fs/promises';
import { StateUnsafeError } from '../errors.js';

/** State files are small; anything bigger is not ours. */
export const MAX_STATE_FILE_BYTES = 16 * 1024 * 1024;

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/**
 * Creates `dir` (0700) if it is missing, then refuses it unless it is a real directory (not a
 * symlink), owned by this user and not world-writable: nobody else may swap files in it.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stats = await lstat(dir);
  if (stats.isSymbolicLink()) throw new StateUnsafeError(dir, 'the state directory is a symbolic link');
  if (!stats.isDirectory()) throw new StateUnsafeError(dir, 'the state directory is not a directory');
  if ((stats.mode & 0o002) !== 0) {
    throw new StateUnsafeError(
      dir,
      `the state directory is world-writable (mode ${(stats.mode & 0o777).toString(8)})`,
    );
  }
  const uid = process.geteuid?.();
  if (uid !== undefined && stats.uid !== uid) {
    throw new StateUnsafeError(
      dir,
      `the state directory belongs to uid ${stats.uid}, not to this user (${uid})`,
    );
  }
}

/** Creates `path` (which must not exist; never through a symlink), writes `text`, fsyncs and closes it. */
export async function writeNewFileSynced(path: string, text: string, mode = 0o600): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await open(path, flags, mode);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes renames, links and unlinks in `dir` durable: fsync of the directory itself. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * The bytes of the regular file `path`, or undefined when it does not exist. A symlink, a
 * non-regular file (a FIFO would block the read) or a file over `maxBytes` is refused.
 */
export async function readRegularFile(
  path: string,
  maxBytes = MAX_STATE_FILE_BYTES,
): Promise<Buffer | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    if (errnoOf(error) === 'ELOOP')
      throw new StateUnsafeError(path, 'it is a symbolic link', { cause: error });
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new StateUnsafeError(path, 'it is not a regular file');
    if (stats.size > maxBytes) throw new StateUnsafeError(path, `it is larger than ${maxBytes} bytes`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** True when `path` exists (without following a symlink at `path`). */
export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Renames an unusable file to `<path>.corrupt-<time>` so it is kept for inspection and never read
 * again; returns the new path.
 */
export async function quarantine(path: string, now: Date = new Date()): Promise<string> {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  let target = `${path}.corrupt-${stamp}`;
  for (let n = 1; await exists(target); n += 1) target = `${path}.corrupt-${stamp}-${n}`;
  await rename(path, target);
  return target;
}
