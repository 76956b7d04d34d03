// Each VM's root disk: a qcow2 overlay on the shared base, created once and kept while the base stays the same.
import { chmod, chown, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { BaseDisk } from './image.js';
import { createOverlay, type RunCommand, runCommand } from './qemu-img.js';
import { decideQemuUser, openForTraversal } from './qemu-user.js';

/** `<stateDir>/disks/<vm>-root.qcow2`, with `<vm>-root.base.json` beside it (the base it was made on). */
export function rootOverlayPaths(stateDir: string, vm: string): { overlayPath: string; recordPath: string } {
  const dir = join(stateDir, 'disks');
  return { overlayPath: join(dir, `${vm}-root.qcow2`), recordPath: join(dir, `${vm}-root.base.json`) };
}

const recordSchema = z.strictObject({
  path: z.string().max(4096),
  format: z.enum(['qcow2', 'raw']),
  sizeBytes: z.number().int().nonnegative(),
  mtimeMs: z.number().int().nonnegative(),
});

export type OverlayDecision =
  | { action: 'reuse' }
  | { action: 'create' }
  | { action: 'recreate'; reason: string };

/** Pure: keep an overlay made on this very base; make one when there is none; else say what changed. */
export function decideOverlay(
  found: { isOverlayThere: boolean; record: BaseDisk | undefined },
  base: BaseDisk,
): OverlayDecision {
  if (!found.isOverlayThere) return { action: 'create' };
  const was = found.record;
  if (was === undefined) return { action: 'recreate', reason: 'no record of the base it was made on' };
  if (was.path !== base.path)
    return { action: 'recreate', reason: `its base was ${was.path}, now ${base.path}` };
  if (was.format !== base.format)
    return { action: 'recreate', reason: `its base was ${was.format}, now ${base.format}` };
  if (was.sizeBytes !== base.sizeBytes || was.mtimeMs !== base.mtimeMs) {
    const when = (ms: number) => new Date(ms).toISOString();
    return {
      action: 'recreate',
      reason: `the base changed (${was.sizeBytes} bytes at ${when(was.mtimeMs)}, now ${base.sizeBytes} bytes at ${when(base.mtimeMs)})`,
    };
  }
  return { action: 'reuse' };
}

/**
 * Makes sure `vm` has its overlay on `base`, for a VM about to boot (never for a running one: a
 * changed base replaces the overlay, losing what the guest wrote to its root disk, which is
 * logged). The overlay belongs to QEMU's user (0600), like data disks; the base is never opened
 * for writing (qemu-img reads its size; QEMU opens it read-only).
 */
export async function ensureRootOverlay(
  stateDir: string,
  vm: string,
  base: BaseDisk,
  options: { log: Logger; run?: RunCommand },
): Promise<{ overlayPath: string; decision: OverlayDecision }> {
  const { overlayPath, recordPath } = rootOverlayPaths(stateDir, vm);
  await mkdir(dirname(overlayPath), { recursive: true, mode: 0o700 });
  openForTraversal(dirname(overlayPath));
  const decision = decideOverlay(
    { isOverlayThere: await isFile(overlayPath), record: await readRecord(recordPath) },
    base,
  );
  if (decision.action === 'reuse') return { overlayPath, decision };
  if (decision.action === 'recreate')
    options.log.warn(
      { vm, overlayPath, reason: decision.reason },
      `recreating ${vm}'s root disk overlay: ${decision.reason}`,
    );
  const partPath = `${overlayPath}.part`;
  await rm(partPath, { force: true });
  await createOverlay(partPath, base, options.run ?? runCommand);
  await chmod(partPath, 0o600);
  const { user } = decideQemuUser(undefined);
  if (user !== undefined) await chown(partPath, user.uid, user.gid);
  // The record first: an overlay without its record is recreated, never trusted.
  await rm(recordPath, { force: true });
  await rename(partPath, overlayPath);
  await writeFile(recordPath, `${JSON.stringify(base)}\n`, { mode: 0o600 });
  options.log.info({ vm, overlayPath, base: base.path }, 'root disk overlay created');
  return { overlayPath, decision };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false; // Absent: it is created.
  }
}

async function readRecord(path: string): Promise<BaseDisk | undefined> {
  try {
    const parsed = recordSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // Absent or unreadable: the overlay is not trusted and is made again.
  }
}
