// Which QEMU a recorded pid is: the process start time and command line, checked before any signal or re-attach.
import { readFileSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ensurePrivateDir, syncDir, writeNewFileSynced } from '../state/durable.js';
import type { MachineSpec } from '../vm/spec.js';

/** What the daemon records of each VM it launched, to find it again after a restart. */
export interface VmIdentity {
  name: string;
  role: 'active' | 'standby';
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): with the pid, names one process for ever. */
  startTime: string;
  runDir: string;
  /** Host loopback port forwarded to each app's guest port on this VM. */
  forwards: Record<string, number>;
  spec: MachineSpec;
}

/** The re-attach record: every VM's identity and the port each app's stable endpoint listens on. */
export interface AttachDoc {
  version: 1;
  savedAt: string;
  vms: VmIdentity[];
  endpointPorts: Record<string, number>;
}

export const ATTACH_FILE = 'vms.json';

const identitySchema = z.object({
  name: z.string().min(1),
  role: z.enum(['active', 'standby']),
  pid: z.number().int().min(1).max(4_194_304),
  startTime: z.string().regex(/^\d+$/),
  runDir: z.string().min(1),
  forwards: z.record(z.string(), z.number().int().min(0).max(65_535)),
  spec: z.looseObject({ name: z.string(), runDir: z.string() }),
});

const attachSchema = z.object({
  version: z.literal(1),
  savedAt: z.string(),
  vms: z.array(identitySchema).max(8),
  endpointPorts: z.record(z.string(), z.number().int().min(0).max(65_535)),
});

/** Field 22 (starttime) of /proc/<pid>/stat, or undefined when the process does not exist. */
export function processStartTime(pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces or ')': split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field 22 is rest[19].
  return rest[19];
}

function processCmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

export type IdentityCheck =
  | { ok: true }
  | { ok: false; reason: 'gone' | 'start-time-differs' | 'not-this-qemu'; detail: string };

/**
 * True only when `pid` is still the process that was recorded: alive, same start time, and its
 * command line names the VM's run directory. Anything else means the VM is gone (a reused pid
 * belongs to someone else and is never signalled).
 */
export function checkIdentity(identity: Pick<VmIdentity, 'pid' | 'startTime' | 'runDir'>): IdentityCheck {
  const startTime = processStartTime(identity.pid);
  if (startTime === undefined)
    return { ok: false, reason: 'gone', detail: `pid ${identity.pid} does not exist` };
  if (startTime !== identity.startTime) {
    return {
      ok: false,
      reason: 'start-time-differs',
      detail: `pid ${identity.pid} started at ${startTime}, not ${identity.startTime}: the pid was reused`,
    };
  }
  const cmdline = processCmdline(identity.pid);
  if (cmdline === undefined || !cmdline.includes(identity.runDir)) {
    return {
      ok: false,
      reason: 'not-this-qemu',
      detail: `pid ${identity.pid} does not name ${identity.runDir} on its command line`,
    };
  }
  return { ok: true };
}

/** Sends `signal` to `pid` only if it is still the process started at `startTime`; false when it is not. */
export function signalIfSame(pid: number, startTime: string, signal: NodeJS.Signals): boolean {
  if (processStartTime(pid) !== startTime) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Reads vms.json; undefined when absent, with a reason when unusable. */
export async function loadAttachDoc(
  stateDir: string,
): Promise<{ doc: AttachDoc | undefined; warning?: string }> {
  let text: string;
  try {
    text = await readFile(join(stateDir, ATTACH_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { doc: undefined };
    return { doc: undefined, warning: `${ATTACH_FILE} cannot be read: ${(error as Error).message}` };
  }
  try {
    const parsed = attachSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return { doc: undefined, warning: `${ATTACH_FILE} is not a valid record; ignored` };
    return { doc: parsed.data as unknown as AttachDoc };
  } catch {
    return { doc: undefined, warning: `${ATTACH_FILE} is not valid JSON; ignored` };
  }
}

/** Writes vms.json crash-safely: temp file, fsync, rename, fsync the directory; a failed save removes its temp file. */
export async function saveAttachDoc(stateDir: string, doc: AttachDoc): Promise<void> {
  await ensurePrivateDir(stateDir);
  const temp = join(stateDir, `${ATTACH_FILE}.tmp`);
  await rm(temp, { force: true });
  try {
    await writeNewFileSynced(temp, `${JSON.stringify(doc)}\n`);
    await rename(temp, join(stateDir, ATTACH_FILE));
  } catch (error) {
    // A save that fails leaves no temp file behind: vms.json stays as it was.
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncDir(stateDir);
}
