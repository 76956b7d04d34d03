import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkIdentity,
  loadAttachDoc,
  processStartTime,
  saveAttachDoc,
  signalIfSame,
} from '../../../src/recovery/identity.js';

const dir = mkdtempSync(join(tmpdir(), 'baton-identity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('process identity', () => {
  it('reads the start time of a live process and nothing for a missing one', () => {
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(processStartTime(4_194_304)).toBeUndefined();
  });

  it('accepts only the same pid, start time and run directory', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid ?? -1;
    const startTime = processStartTime(pid) ?? '';
    try {
      expect(checkIdentity({ pid, startTime, runDir: '30' })).toEqual({ ok: true });
      expect(checkIdentity({ pid, startTime: '1', runDir: '30' })).toMatchObject({
        ok: false,
        reason: 'start-time-differs',
      });
      expect(checkIdentity({ pid, startTime, runDir: '/run/other' })).toMatchObject({
        ok: false,
        reason: 'not-this-qemu',
      });
      expect(checkIdentity({ pid: 4_194_304, startTime, runDir: '30' })).toMatchObject({
        ok: false,
        reason: 'gone',
      });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('never signals a process whose start time differs (a reused pid)', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid ?? -1;
    expect(signalIfSame(pid, '1', 'SIGKILL')).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(child.exitCode).toBeNull();
    expect(child.signalCode).toBeNull();
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    expect(signalIfSame(pid, processStartTime(pid) ?? '', 'SIGKILL')).toBe(true);
    expect(await exited).toBe('SIGKILL');
  });

  it('saves and loads the re-attach record, and ignores a broken one', async () => {
    const doc = { version: 1 as const, savedAt: 'now', vms: [], endpointPorts: { kvd: 4000 } };
    await saveAttachDoc(dir, doc);
    expect((await loadAttachDoc(dir)).doc).toEqual(doc);
    const other = mkdtempSync(join(dir, 'x-'));
    expect(await loadAttachDoc(other)).toEqual({ doc: undefined });
  });

  it('leaves no temp file behind when a save fails, and the record as it was', async () => {
    const stateDir = mkdtempSync(join(dir, 'fail-'));
    mkdirSync(join(stateDir, 'vms.json')); // The rename over it fails (EISDIR).
    const doc = { version: 1 as const, savedAt: 'now', vms: [], endpointPorts: {} };
    await expect(saveAttachDoc(stateDir, doc)).rejects.toThrow();
    expect(readdirSync(stateDir)).toEqual(['vms.json']);
  });
});
