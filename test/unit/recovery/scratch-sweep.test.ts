import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { processStartTime } from '../../../src/recovery/identity.js';
import {
  freshScratchDir,
  isOwnerAlive,
  ownOwnerText,
  sweepAbandonedScratchDirs,
} from '../../../src/recovery/scratch-sweep.js';
import { SCRATCH_OWNER_FILE } from '../../../src/vm/scratch-dir.js';

const log = createLogger({ level: 'silent' });
const parent = mkdtempSync(join(tmpdir(), 'baton-scratch-sweep-'));
const env = { BATON_RUN_DIR: parent };
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(parent, { recursive: true, force: true });
});

/** A stand-in QEMU (named qemu-system-fake) whose argv names a socket under `dir`. */
function fakeQemu(dir: string): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)', `${dir}/run/vm-a-x/qmp.sock`], {
    argv0: 'qemu-system-fake',
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

function scratch(name: string, owner: string | undefined): string {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  if (owner !== undefined) writeFileSync(join(dir, SCRATCH_OWNER_FILE), `${owner}\n`);
  return dir;
}

async function waitForCmdline(pid: number): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (
      existsSync(`/proc/${pid}/cmdline`) &&
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('qmp.sock')
    )
      return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('owner text', () => {
  it('names this process while it runs', () => {
    expect(ownOwnerText()).toBe(`${process.pid} ${processStartTime(process.pid)}`);
    expect(isOwnerAlive(ownOwnerText())).toBe(true);
  });

  it('is dead for another start time, a pid that does not run, or text that is not an owner', () => {
    expect(isOwnerAlive(`${process.pid} 1`)).toBe(false);
    expect(isOwnerAlive('4194304 12345')).toBe(false);
    expect(isOwnerAlive('')).toBe(false);
    expect(isOwnerAlive('12 x')).toBe(false);
  });
});

describe('sweepAbandonedScratchDirs', () => {
  it("stops the QEMUs of folders whose owner is gone or unnamed, removes those folders, and keeps a live run's", async () => {
    const dead = scratch('demo-dead01', '4194304 12345');
    const unowned = scratch('demo-old001', undefined);
    const live = scratch('demo-live01', ownOwnerText());
    const other = scratch('bench-dead01', '4194304 12345');
    const abandoned = fakeQemu(dead);
    const kept = fakeQemu(live);
    await waitForCmdline(abandoned.pid ?? 0);
    await waitForCmdline(kept.pid ?? 0);
    const exited = new Promise((resolve) => abandoned.once('exit', resolve));

    const lines = await sweepAbandonedScratchDirs('demo', log, env);

    await exited;
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(`^stopped QEMU pid ${abandoned.pid} \\(under ${dead}\\): left behind`),
      ),
      `removed the abandoned scratch folder ${dead}`,
      `removed the abandoned scratch folder ${unowned}`,
    ]);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(unowned)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(other)).toBe(true);
    expect(kept.exitCode).toBeNull();
    expect(kept.signalCode).toBeNull();
  });

  it('has nothing to do when the parent folder does not exist', async () => {
    expect(await sweepAbandonedScratchDirs('demo', log, { BATON_RUN_DIR: join(parent, 'none') })).toEqual([]);
  });
});

describe('freshScratchDir', () => {
  it('makes a folder owned by this process and removes it with its signal handlers', async () => {
    const before = process.listenerCount('SIGTERM');
    const previous = process.env.BATON_RUN_DIR;
    process.env.BATON_RUN_DIR = parent;
    try {
      const made = await freshScratchDir('unit', log, () => undefined);
      expect(readFileSync(join(made.dir, SCRATCH_OWNER_FILE), 'utf8')).toBe(`${ownOwnerText()}\n`);
      expect(process.listenerCount('SIGTERM')).toBe(before + 1);
      await made.remove();
      expect(existsSync(made.dir)).toBe(false);
      expect(process.listenerCount('SIGTERM')).toBe(before);
    } finally {
      if (previous === undefined) delete process.env.BATON_RUN_DIR;
      else process.env.BATON_RUN_DIR = previous;
    }
  });

  it('stops a QEMU the run left under its folder (a pair whose stop failed) before removing it', async () => {
    const previous = process.env.BATON_RUN_DIR;
    process.env.BATON_RUN_DIR = parent;
    try {
      const said: string[] = [];
      const made = await freshScratchDir('unit', log, (line) => said.push(line));
      const left = fakeQemu(made.dir);
      await waitForCmdline(left.pid ?? 0);
      const exited = new Promise((resolve) => left.once('exit', resolve));
      await made.remove();
      await exited;
      expect(said).toEqual([
        expect.stringMatching(new RegExp(`^stopped QEMU pid ${left.pid} \\(under ${made.dir}\\)`)),
      ]);
      expect(existsSync(made.dir)).toBe(false);
    } finally {
      if (previous === undefined) delete process.env.BATON_RUN_DIR;
      else process.env.BATON_RUN_DIR = previous;
    }
  });
});
