// A fresh folder for one run of the demo or the benchmarks, under BATON_RUN_DIR (default $TMPDIR/baton).
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openForTraversal } from './qemu-user.js';

/** Creates `<run dir>/<prefix>-XXXXXX`; both levels let QEMU's own user pass through to its run directories. */
export async function createScratchDir(
  prefix: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const parent = env.BATON_RUN_DIR ?? join(tmpdir(), 'baton');
  await mkdir(parent, { recursive: true, mode: 0o700 });
  openForTraversal(parent);
  const dir = await mkdtemp(join(parent, `${prefix}-`));
  openForTraversal(dir);
  return dir;
}
