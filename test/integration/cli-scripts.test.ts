// The CLI as scripts use it, against a real daemon and pair: failover --wait, JSON errors, the event stream.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi } from '../../src/cli/client.js';
import type { FailoverWaitView } from '../../src/daemon/failover-wait.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { auditDaemon, qemuPidsUnder, until } from '../helpers/audit.js';
import { BatonDaemon } from '../helpers/daemon.js';

const BATON = join(PACKAGE_ROOT, 'bin', 'baton.js');
const stateDir = mkdtempSync(join(tmpdir(), 'baton-scripts-'));
const daemon = new BatonDaemon(stateDir);
const WHOLE_VM_PHASES = ['fence', 'disk', 'plug', 'confirm', 'start', 'healthy', 'commit'];

/** `baton events --follow` as a child process, its stdout split into parsed lines. */
function followEvents(): {
  child: ChildProcess;
  events: Array<Record<string, unknown>>;
  stderr: () => string;
} {
  const child = spawn('node', [BATON, 'events', '--follow'], {
    env: { ...process.env, BATON_STATE_DIR: stateDir },
  });
  const events: Array<Record<string, unknown>> = [];
  let pending = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) events.push(JSON.parse(line));
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { child, events, stderr: () => stderr };
}

beforeAll(async () => {
  await daemon.start();
}, 180_000);

afterAll(async () => {
  await daemon.kill('SIGTERM');
  expect(qemuPidsUnder(stateDir)).toEqual([]);
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

/** A sample script from contrib/scripts with this daemon's baton. */
function script(name: string, ...args: string[]) {
  return execa(join(PACKAGE_ROOT, 'contrib', 'scripts', name), ['--state-dir', stateDir, ...args], {
    reject: false,
    env: { BATON: BATON },
    timeout: 120_000,
  });
}

describe('the CLI as scripts use it', () => {
  it('health-probe.sh says OK for the protected pair', async () => {
    const probe = await script('health-probe.sh');
    expect(probe.exitCode, probe.stdout).toBe(0);
    expect(probe.stdout).toMatch(
      /^BATON OK - pair protected, active vm-a \| heartbeat_age_ms=\d+;3000 epoch=\d+$/,
    );
  });

  it.each([
    [
      ['request', '--app', 'nope', '--memory', '192MiB'],
      5,
      'NOT_FOUND',
      "Unknown app 'nope': configured apps are kvd, cache",
    ],
    [['inject', '--fault', 'melt'], 2, 'INVALID_INPUT', "option '--fault <kind>' argument 'melt' is invalid"],
    [['failover', '--timeout-ms', '10'], 2, 'INVALID_INPUT', '--timeout-ms goes with --wait'],
    [['status', '--bogus'], 2, 'INVALID_INPUT', "unknown option '--bogus'"],
  ])('prints %j refused as one JSON error with exit %i', async (args, exitCode, code, message) => {
    const before = (await daemon.cli('--json', 'table')).stdout;
    const result = await daemon.cli('--json', ...args);
    expect(result.exitCode).toBe(exitCode);
    expect(result.stderr).toBe('');
    const printed = JSON.parse(result.stdout);
    expect(Object.keys(printed)).toEqual(['error']);
    expect(printed.error.code).toBe(code);
    expect(printed.error.message).toContain(message);
    expect((await daemon.cli('--json', 'table')).stdout).toBe(before);
  });

  it('failover --wait --json returns the finished record while events --follow shows every phase in order', async () => {
    const follower = followEvents();
    try {
      await until(() => follower.events.find((e) => e.type === 'following'), 10_000, 'the event stream');
      const startedAtMs = performance.now();
      const result = await daemon.cli('--json', 'failover', '--wait', '--timeout-ms', '60000');
      const waitedMs = Math.round(performance.now() - startedAtMs);
      expect(result.exitCode, result.stderr).toBe(0);
      const record = JSON.parse(result.stdout);
      expect(record).toMatchObject({
        kind: 'whole-vm',
        result: 'succeeded',
        fromVm: 'vm-a',
        toVm: 'vm-b',
        error: null,
      });
      expect(record.phases.map((p: { name: string }) => p.name)).toEqual(['detect', ...WHOLE_VM_PHASES]);
      expect(await daemon.history()).toEqual([
        expect.objectContaining({ id: record.id, result: 'succeeded' }),
      ]);
      console.log(`failover --wait answered in ${waitedMs} ms; recovery ${record.totalMs} ms`);

      const finished = await until(
        () =>
          follower.events.find((e) => e.type === 'failover' && e.state === 'finished' && e.id === record.id),
        10_000,
        'the failover to finish on the stream',
      );
      expect(finished).toMatchObject({ result: 'succeeded', record: { id: record.id, result: 'succeeded' } });
      const ofThisFailover = follower.events.filter((e) => e.type === 'fault' || e.id === record.id);
      const steps = ofThisFailover.map((e) =>
        e.type === 'phase'
          ? `${e.phase} ${e.state}`
          : e.type === 'fault'
            ? `fault ${e.signal} ${e.action}`
            : `failover ${e.state}`,
      );
      console.log(`events of failover ${record.id}:\n  ${steps.join('\n  ')}`);
      expect(steps).toEqual([
        'fault request failover',
        'failover started',
        ...WHOLE_VM_PHASES.flatMap((phase) => [`${phase} started`, `${phase} ok`]),
        'failover finished',
      ]);
      const seqs = follower.events.slice(1).map((e) => e.seq as number);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      await auditDaemon(stateDir);

      const report = await script('failover-report.sh', '--out', stateDir);
      expect(report.exitCode, report.stderr).toBe(0);
      const reportDir = join(stateDir, `baton-failover-${record.id}`);
      expect(report.stdout.trim()).toBe(`${reportDir}.tar.gz`);
      expect(existsSync(`${reportDir}.tar.gz`)).toBe(true);
      const summary = readFileSync(join(reportDir, 'summary.md'), 'utf8');
      expect(summary).toContain(`# baton failover ${record.id}`);
      expect(summary).toContain('- result: **succeeded**');
      for (const phase of WHOLE_VM_PHASES) expect(summary).toContain(`| ${phase} |`);
      const journal = readFileSync(join(reportDir, 'journal.jsonl'), 'utf8').trim().split('\n');
      // operation, an intent and a result per phase, closed.
      expect(journal.map((line) => JSON.parse(line).type)).toEqual([
        'operation',
        ...WHOLE_VM_PHASES.flatMap(() => ['intent', 'result']),
        'closed',
      ]);
    } finally {
      follower.child.kill('SIGTERM');
    }
  });

  it('failover --wait past its timeout exits 1 with the phase, and the failover goes on to succeed', async () => {
    const isProtected = async () => (await daemon.status()).state;
    await expect.poll(isProtected, { timeout: 120_000, interval: 500 }).toBe('protected');
    const result = await daemon.cli('--json', 'failover', '--wait', '--timeout-ms', '1');
    expect(result.exitCode).toBe(1);
    const { error } = JSON.parse(result.stdout);
    expect(error).toMatchObject({ code: 'WAIT_TIMEOUT', failoverId: expect.any(String) });
    expect(error.phase === null || WHOLE_VM_PHASES.includes(error.phase)).toBe(true);
    expect(error.message).toContain(`waiting for failover ${error.failoverId} to finish`);
    // The failover was left alone: it finishes on its own (asked without starting another).
    const waited = (await callApi(
      stateDir,
      'GET',
      `/v1/failovers/${error.failoverId}?waitMs=60000`,
      undefined,
      70_000,
    )) as FailoverWaitView;
    expect(waited).toMatchObject({
      id: error.failoverId,
      result: 'succeeded',
      record: { result: 'succeeded' },
    });
    expect((await daemon.history()).map((r) => r.id)).toHaveLength(2);
    await expect.poll(isProtected, { timeout: 120_000, interval: 500 }).toBe('protected');
    await auditDaemon(stateDir);
  });

  it('maintenance-active.sh switches the apps over to the standby without a fence and waits until the pair is protected again', async () => {
    const before = await daemon.status();
    const active = before.vms.find((vm) => vm.role === 'active')?.name;
    const standby = before.vms.find((vm) => vm.role === 'standby')?.name;
    const unconfirmed = await script('maintenance-active.sh');
    expect(unconfirmed.exitCode).toBe(2);
    expect(unconfirmed.stderr).toContain(
      `this moves the apps of ${active} to ${standby} (no fence) and keeps ${active} running small as the standby`,
    );
    expect((await daemon.history()).length).toBe(2);

    const result = await script('maintenance-active.sh', '--yes');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      kind: 'switchover',
      result: 'succeeded',
      fromVm: active,
    });
    expect(JSON.parse(result.stdout).phases.map((p: { name: string }) => p.name)).not.toContain('fence');
    expect(result.stderr).toContain(`protected again: ${standby} is the active, ${active} the new standby`);
    const after = await daemon.status();
    expect(after.state).toBe('protected');
    expect(after.vms.find((vm) => vm.role === 'active')?.name).toBe(standby);
    await auditDaemon(stateDir);
  });
});
