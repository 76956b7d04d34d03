import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decideQemuUser,
  firstUnsearchableDir,
  lookUpUser,
  openForTraversal,
  readProcessIds,
} from '../../../src/vm/qemu-user.js';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-qu-'));
  dirs.push(dir);
  return dir;
}

function passwdWith(lines: string[]): string {
  const path = join(scratch(), 'passwd');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('lookUpUser', () => {
  it('reads uid and gid of the named user from a passwd file', () => {
    const passwd = passwdWith([
      'root:x:0:0:root:/root:/bin/bash',
      'baton-qemu:x:999:995::/nonexistent:/usr/sbin/nologin',
    ]);
    expect(lookUpUser('baton-qemu', passwd)).toEqual({ name: 'baton-qemu', uid: 999, gid: 995 });
  });

  it('finds nothing for a missing user, a broken line or a missing file', () => {
    expect(lookUpUser('nobody-here', passwdWith(['root:x:0:0::/root:/bin/sh']))).toBeUndefined();
    expect(lookUpUser('odd', passwdWith(['odd:x:abc:1::/:/bin/sh']))).toBeUndefined();
    expect(lookUpUser('root', '/nonexistent/passwd')).toBeUndefined();
  });
});

describe('decideQemuUser', () => {
  const passwd = () => passwdWith(['baton-qemu:x:999:995::/nonexistent:/usr/sbin/nologin']);

  it('keeps the daemon user when the daemon is not root', () => {
    expect(decideQemuUser(scratch(), { daemonUid: 1000, passwdPath: passwd() })).toEqual({
      user: undefined,
      reason: 'the daemon is not root: QEMU runs as uid 1000',
    });
  });

  it('keeps root, saying so, when the QEMU user does not exist', () => {
    const decision = decideQemuUser(scratch(), { daemonUid: 0, name: 'no-such-user', passwdPath: passwd() });
    expect(decision).toEqual({
      user: undefined,
      reason: 'QEMU runs as root: the user no-such-user does not exist (`make setup` creates it)',
    });
  });

  it('keeps root when a folder above the run directory is closed to others', () => {
    const closed = scratch(); // mkdtemp: 0700
    const runParent = join(closed, 'run');
    mkdirSync(runParent, { mode: 0o711 });
    chmodSync(runParent, 0o711);
    const decision = decideQemuUser(runParent, { daemonUid: 0, name: 'baton-qemu', passwdPath: passwd() });
    expect(decision.user).toBeUndefined();
    expect(decision.reason).toBe(
      `QEMU runs as root: ${closed} is not searchable by others, so baton-qemu could not reach its run directory`,
    );
  });

  it('drops to the QEMU user once the folders are open for traversal', () => {
    const stateDir = scratch();
    const runParent = join(stateDir, 'run');
    mkdirSync(runParent, { mode: 0o700 });
    openForTraversal(stateDir);
    openForTraversal(runParent);
    expect(statSync(stateDir).mode & 0o777).toBe(0o711);
    const decision = decideQemuUser(runParent, { daemonUid: 0, name: 'baton-qemu', passwdPath: passwd() });
    expect(decision.user).toMatchObject({ name: 'baton-qemu', uid: 999 });
    expect(decision.reason).toBe('QEMU runs as baton-qemu (uid 999)');
  });

  it('does not look at folders when asked only whether the user exists', () => {
    const decision = decideQemuUser(undefined, { daemonUid: 0, name: 'baton-qemu', passwdPath: passwd() });
    expect(decision.user).toMatchObject({ uid: 999 });
  });
});

describe('firstUnsearchableDir', () => {
  it('names the nearest closed folder, or none', () => {
    const top = scratch();
    const inner = join(top, 'a', 'b');
    mkdirSync(inner, { recursive: true, mode: 0o755 });
    expect(firstUnsearchableDir(inner)).toBe(top);
    openForTraversal(top);
    expect(firstUnsearchableDir(inner)).toBeUndefined();
    expect(firstUnsearchableDir(join(top, 'missing'))).toBe(join(top, 'missing'));
  });
});

describe('readProcessIds', () => {
  it("reads this process's ids, and nothing for a pid that cannot exist", () => {
    expect(readProcessIds(process.pid)).toEqual({ uid: process.getuid?.(), gid: process.getgid?.() });
    expect(readProcessIds(4_194_304)).toBeUndefined();
  });
});
