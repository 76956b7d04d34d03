import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireStateLock, processStartTicks } from '../../../src/daemon/lock.js';
import { processStartTime } from '../../../src/recovery/identity.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has exited (and was reaped), so nothing answers to it. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid ?? 0;
}

describe('the state directory lock', () => {
  it('names this process and its start time, private to the owner, and release removes it', async () => {
    const lock = await acquireStateLock(dir);
    expect(lock.path).toBe(join(dir, 'baton.lock'));
    expect(readFileSync(lock.path, 'utf8')).toBe(`${process.pid} ${processStartTicks(process.pid)}\n`);
    expect(statSync(lock.path).mode & 0o777).toBe(0o600);
    await lock.release();
    expect(existsSync(lock.path)).toBe(false);
    await lock.release(); // a second release is harmless
  });

  it('refuses a second daemon while the holder lives, naming its pid and the directory', async () => {
    const lock = await acquireStateLock(dir);
    await expect(acquireStateLock(dir)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `Another baton daemon (pid ${process.pid}) holds the state directory ${dir}`,
    });
    expect(readFileSync(lock.path, 'utf8')).toContain(`${process.pid} `);
  });

  it('replaces a lock whose holder is gone', async () => {
    writeFileSync(join(dir, 'baton.lock'), `${deadPid()} 12345\n`);
    const lock = await acquireStateLock(dir);
    expect(readFileSync(lock.path, 'utf8')).toMatch(new RegExp(`^${process.pid} `));
  });

  it('replaces a lock whose pid was reused by another process (start time differs)', async () => {
    writeFileSync(join(dir, 'baton.lock'), `${process.pid} 1\n`);
    await expect(acquireStateLock(dir)).resolves.toMatchObject({ path: join(dir, 'baton.lock') });
  });

  it.each([
    ['empty', ''],
    ['garbage', 'not a lock'],
    ['pid only', `${process.pid}`],
    ['negative pid', `-1 ${processStartTicks(1)}`],
  ])('replaces a malformed lock (%s)', async (_name, text) => {
    writeFileSync(join(dir, 'baton.lock'), text);
    const lock = await acquireStateLock(dir);
    expect(readFileSync(lock.path, 'utf8')).toMatch(new RegExp(`^${process.pid} `));
  });

  it('passes on an error other than an existing lock (a missing directory)', async () => {
    await expect(acquireStateLock(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reads start ticks as /proc shows them, and none for a process that is gone', () => {
    expect(processStartTicks(process.pid)).toMatch(/^\d+$/);
    expect(processStartTicks(process.pid)).toBe(processStartTime(process.pid));
    expect(processStartTicks(deadPid())).toBeUndefined();
  });
});
