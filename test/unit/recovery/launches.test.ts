import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { listLaunches, stopLaunches } from '../../../src/recovery/launches.js';

const log = createLogger({ level: 'silent' });
const stateDir = mkdtempSync(join(tmpdir(), 'baton-launches-'));
const runParent = join(stateDir, 'run');
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
});

/** A stand-in QEMU: a process named qemu-system-fake whose argv names `runDir` as QEMU's does. */
function fakeQemu(runDir: string): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)', `${runDir}/qmp.sock`], {
    argv0: 'qemu-system-fake',
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

function runDir(name: string): string {
  const dir = join(runParent, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

async function exitOf(child: ChildProcess): Promise<NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.signalCode;
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
}

async function until(probe: () => boolean): Promise<void> {
  await expect.poll(probe, { timeout: 5_000 }).toBe(true);
}

describe('launches of a state directory', () => {
  it('finds no launch when the run directory does not exist', () => {
    expect(listLaunches(join(stateDir, 'nowhere'))).toEqual([]);
  });

  it('finds each QEMU by the run directory its command line names', async () => {
    const dir = runDir('vm-a-find');
    const qemu = fakeQemu(dir);
    await until(() => listLaunches(runParent).some((l) => l.qemus.length > 0));
    expect(listLaunches(runParent)).toEqual([
      { runDir: dir, qemus: [{ pid: qemu.pid, startTime: expect.stringMatching(/^\d+$/) }] },
    ]);
    qemu.kill('SIGKILL');
    await exitOf(qemu);
    rmSync(dir, { recursive: true });
  });

  it('stops the QEMUs it does not keep and removes their run directories; the kept one runs on', async () => {
    const kept = runDir('vm-a-kept');
    const orphan = runDir('vm-b-orphan');
    const stale = runDir('vm-b-stale');
    const keptQemu = fakeQemu(kept);
    const orphanQemu = fakeQemu(orphan);
    await until(() => listLaunches(runParent).filter((l) => l.qemus.length > 0).length === 2);
    const lines = await stopLaunches(runParent, { keep: new Set([kept]), log, reason: 'a test' });
    expect(lines).toEqual([
      `stopped QEMU pid ${orphanQemu.pid} (${orphan}): a test`,
      `removed ${stale}: no QEMU runs there`,
    ]);
    expect(await exitOf(orphanQemu)).toBe('SIGKILL');
    expect(keptQemu.exitCode).toBeNull();
    expect(readdirSync(runParent)).toEqual(['vm-a-kept']);
    await stopLaunches(runParent, { log, reason: 'the daemon stops' });
    expect(await exitOf(keptQemu)).toBe('SIGKILL');
    expect(readdirSync(runParent)).toEqual([]);
  });

  it('keeps the run directories no QEMU runs in when asked (a failed boot keeps its logs)', async () => {
    runDir('vm-a-failed');
    expect(await stopLaunches(runParent, { log, reason: 'a test', isExitedKept: true })).toEqual([]);
    expect(readdirSync(runParent)).toEqual(['vm-a-failed']);
    rmSync(join(runParent, 'vm-a-failed'), { recursive: true });
  });

  it('never signals a process that merely names a directory outside the run directory', async () => {
    const outside = join(stateDir, 'elsewhere');
    mkdirSync(outside);
    const other = fakeQemu(outside);
    await until(() => other.pid !== undefined);
    await stopLaunches(runParent, { log, reason: 'a test' });
    expect(other.exitCode).toBeNull();
    other.kill('SIGKILL');
    await exitOf(other);
  });
});
