// Which host user QEMU runs as: a dedicated unprivileged user when the daemon is root and can.
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** The user `make setup` creates for QEMU; `BATON_QEMU_USER` names another (`root` keeps root). */
export const DEFAULT_QEMU_USER = 'baton-qemu';
const PASSWD_PATH = '/etc/passwd';
const KVM_DEVICE_PATH = '/dev/kvm';

export interface QemuUser {
  name: string;
  uid: number;
  gid: number;
}

/** Who QEMU will run as, and why; `user` is undefined when QEMU runs as the daemon's own user. */
export interface QemuUserDecision {
  user: QemuUser | undefined;
  reason: string;
}

/** The passwd entry of `name`, or undefined. Reads the file, never a shell. */
export function lookUpUser(name: string, passwdPath = PASSWD_PATH): QemuUser | undefined {
  let text: string;
  try {
    text = readFileSync(passwdPath, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] !== name || fields.length < 4) continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) return undefined;
    return { name, uid, gid };
  }
  return undefined;
}

/**
 * Decides QEMU's user for a VM whose run directory will be created in `runParent`. Root drops to
 * the QEMU user when it exists and every directory above the run directory lets others search it
 * (QEMU must reach its sockets); otherwise QEMU keeps the daemon's user and the reason says why.
 * Without `runParent`, only whether the user exists is asked (files to give it ahead of time).
 */
export function decideQemuUser(
  runParent: string | undefined,
  options: { name?: string; daemonUid?: number; passwdPath?: string } = {},
): QemuUserDecision {
  const daemonUid = options.daemonUid ?? process.getuid?.() ?? 0;
  if (daemonUid !== 0)
    return { user: undefined, reason: `the daemon is not root: QEMU runs as uid ${daemonUid}` };
  const name = options.name ?? process.env.BATON_QEMU_USER ?? DEFAULT_QEMU_USER;
  if (name === 'root') return { user: undefined, reason: 'QEMU runs as root: BATON_QEMU_USER=root' };
  const user = lookUpUser(name, options.passwdPath);
  if (user === undefined)
    return {
      user: undefined,
      reason: `QEMU runs as root: the user ${name} does not exist (\`make setup\` creates it)`,
    };
  const closed = runParent === undefined ? undefined : firstUnsearchableDir(runParent);
  if (closed !== undefined)
    return {
      user: undefined,
      reason: `QEMU runs as root: ${closed} is not searchable by others, so ${name} could not reach its run directory`,
    };
  return { user: { ...user, gid: kvmGroupFor(user) }, reason: `QEMU runs as ${name} (uid ${user.uid})` };
}

/** The first directory from `dir` up to `/` that others may not search (no o+x), or undefined. */
export function firstUnsearchableDir(dir: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    try {
      if ((statSync(current).mode & 0o001) === 0) return current;
    } catch {
      return current;
    }
    if (dirname(current) === current) return undefined;
  }
}

/**
 * Lets others search `dir` (0711: pass through, not list), so that QEMU's own user reaches the
 * private run directories below it. The files in it keep their own modes.
 */
export function openForTraversal(dir: string): void {
  try {
    const mode = statSync(dir).mode & 0o777;
    if ((mode & 0o011) !== 0o011) chmodSync(dir, mode | 0o011);
  } catch {
    // Not ours to change: decideQemuUser then finds it closed and QEMU keeps the daemon's user.
  }
}

/** QEMU's group: the group of /dev/kvm when that group may use it (Debian's `kvm`), else the user's. */
function kvmGroupFor(user: QemuUser): number {
  try {
    const stat = statSync(KVM_DEVICE_PATH);
    return (stat.mode & 0o060) === 0o060 ? stat.gid : user.gid;
  } catch {
    return user.gid;
  }
}

/** The real uid and gid of process `pid`, read from /proc; undefined when it is gone. */
export function readProcessIds(pid: number): { uid: number; gid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const first = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  const uid = first('Uid');
  const gid = first('Gid');
  return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
}
