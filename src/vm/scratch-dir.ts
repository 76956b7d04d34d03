// A fresh folder for one run of the demo or the benchmarks, under BATON_RUN_DIR (default $TMPDIR/baton),
// with an owner file naming the process that made it, so a later run can tell an abandoned folder.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openForTraversal } from './qemu-user.js';

/** `<pid> <start time>` of the run that made the folder (see scratchOwnerText). */
export const SCRATCH_OWNER_FILE = 'owner';

/** The parent folder of every scratch folder. */
export function scratchParent(env: NodeJS.ProcessEnv = process.env): string {
  return env.BATON_RUN_DIR ?? join(tmpdir(), 'baton');
}

/**
 * Creates `<run dir>/<prefix>-XXXXXX`; both levels let QEMU's own user pass through to its run
 * directories. `ownerText` (the caller's pid and start time) goes into its owner file.
 */
export async function createScratchDir(
  prefix: string,
  ownerText: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const parent = scratchParent(env);
  await mkdir(parent, { recursive: true, mode: 0o700 });
  openForTraversal(parent);
  const dir = await mkdtemp(join(parent, `${prefix}-`));
  openForTraversal(dir);
  await writeFile(join(dir, SCRATCH_OWNER_FILE), `${ownerText}\n`, { mode: 0o600 });
  return dir;
}
