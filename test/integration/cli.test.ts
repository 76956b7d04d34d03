import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { DEFAULT_QEMU_USER, lookUpUser } from '../../src/vm/qemu-user.js';
import { auditDaemon, qemuPidsUnder } from '../helpers/audit.js';

const BATON = join(PACKAGE_ROOT, 'bin', 'baton.js');
const stateDir = mkdtempSync(join(tmpdir(), 'baton-cli-'));
let daemon: ChildProcess | undefined;
let daemonOutput = '';

function baton(...args: string[]) {
  return execa('node', [BATON, ...args], {
    reject: false,
    env: { BATON_STATE_DIR: stateDir },
    timeout: 60_000,
  });
}

beforeAll(async () => {
  // A stale lock (a pid that cannot exist) and a stale socket nobody listens on: `up` must replace both.
  writeFileSync(join(stateDir, 'baton.lock'), '4194304 1\n');
  const stale = createServer();
  await new Promise<void>((resolve) => stale.listen(join(stateDir, 'baton.sock'), resolve));
  await new Promise((resolve) => stale.close(resolve));
  writeFileSync(join(stateDir, 'baton.sock'), '');

  daemon = spawn('node', [BATON, 'up'], {
    env: { ...process.env, BATON_STATE_DIR: stateDir, BATON_LOG_LEVEL: 'warn' },
  });
  daemon.stdout?.on('data', (chunk: Buffer) => {
    daemonOutput += chunk.toString();
  });
  daemon.stderr?.on('data', (chunk: Buffer) => {
    daemonOutput += chunk.toString();
  });
  const startedAtMs = performance.now();
  while (!daemonOutput.includes('baton is up')) {
    if (performance.now() - startedAtMs > 120_000 || daemon.exitCode !== null)
      throw new Error(`daemon did not come up:\n${daemonOutput}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 150_000);

afterAll(async () => {
  if (daemon !== undefined && daemon.exitCode === null) {
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon?.once('exit', resolve));
  }
  expect(qemuPidsUnder(stateDir)).toEqual([]);
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

describe('the baton CLI against a running daemon', () => {
  it('prints status, table and history as documented JSON', async () => {
    const status = JSON.parse((await baton('--json', 'status')).stdout);
    expect(status).toMatchObject({ epoch: expect.any(Number), blocked: false, state: 'protected' });
    expect(status.vms).toEqual([
      expect.objectContaining({
        name: 'vm-a',
        role: 'active',
        state: 'running',
        pid: expect.any(Number),
        // As root with QEMU's own user there (make setup creates it), QEMU runs as that user.
        uid: process.getuid?.() === 0 ? (lookUpUser(DEFAULT_QEMU_USER)?.uid ?? 0) : process.getuid?.(),
        baseBytes: 96 * 2 ** 20,
        pluggedBytes: (128 + 32) * 2 ** 20,
      }),
      expect.objectContaining({
        name: 'vm-b',
        role: 'standby',
        state: 'running',
        baseBytes: 96 * 2 ** 20,
        pluggedBytes: 0,
      }),
    ]);
    expect(status.apps).toEqual([
      expect.objectContaining({ name: 'kvd', vm: 'vm-a', state: 'running', restarts: 0 }),
      expect.objectContaining({ name: 'cache', vm: 'vm-a', state: 'running', restarts: 0 }),
    ]);
    const table = JSON.parse((await baton('--json', 'table')).stdout);
    expect(table.budgetBytes).toBe(736 * 2 ** 20);
    expect(table.areas.map((a: { name: string }) => a.name)).toEqual([
      'os:vm-a',
      'os:vm-b',
      'monitor',
      'app:kvd',
      'app:cache',
      'pool',
    ]);
    expect(Object.keys(table.areas[3]).sort()).toEqual([
      'kind',
      'name',
      'onFailure',
      'pluggedBytes',
      'requestedBytes',
      'sizeBytes',
      'user',
    ]);
    expect(JSON.parse((await baton('--json', 'history')).stdout)).toEqual([]);
    const human = await baton('table');
    expect(human.stdout).toContain('app:kvd    app      128 MiB  vm-a     vm-b');
    expect(human.stdout).toContain('app:cache  app      32 MiB   vm-a     monitor');
  });

  it.each([
    [
      ['request', '--app', 'kvd', '--memory', '12XB'],
      2,
      "Invalid size: expected a whole number with an optional unit (B, KiB, MiB, GiB), got '12XB'",
    ],
    [['request', '--app', 'kvd', '--memory', '-1MiB'], 2, "got '-1MiB'"],
    [['request', '--app', 'kvd', '--memory', '1e30'], 2, "got '1e30'"],
    [
      ['request', '--app', 'nope', '--memory', '192MiB'],
      5,
      "Unknown app 'nope': configured apps are kvd, cache",
    ],
    [
      ['request', '--app', 'kvd', '--memory', '4GiB'],
      5,
      'Cannot grant memory to kvd: pool has 352 MiB, kvd asked for 3968 MiB',
    ],
    [['inject', '--fault', 'melt'], 2, "error: option '--fault <kind>' argument 'melt' is invalid"],
    [['up'], 5, /^baton: Another baton daemon \(pid \d+\) holds the state directory \/tmp\/baton-cli-\w+$/],
  ])('refuses %j with exit code %i and one clear line', async (args, exitCode, message) => {
    const before = (await baton('--json', 'table')).stdout;
    const result = await baton(...args);
    expect(result.exitCode).toBe(exitCode);
    if (typeof message === 'string') expect(result.stderr).toContain(message);
    else expect(result.stderr.trim()).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect((await baton('--json', 'table')).stdout).toBe(before);
  });

  it('probes /dev/kvm and checks a config without a daemon', async () => {
    const probe = JSON.parse((await baton('--json', 'probe')).stdout);
    expect(['kvm', 'tcg']).toContain(probe.decision.accel);
    expect(probe.decision.reason).toBe(
      `${probe.decision.accel === 'kvm' ? 'KVM' : 'TCG'} chosen automatically: ${probe.probe.reason}`,
    );
    const valid = await baton('check-config', join(PACKAGE_ROOT, 'contrib', 'baton.yaml'));
    expect(valid.exitCode).toBe(0);
    const missing = await baton('check-config', join(stateDir, 'none.yaml'));
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('cannot read config');
  });

  it('answers two concurrent failover requests with one failover', async () => {
    const [first, second] = await Promise.all([baton('--json', 'failover'), baton('--json', 'failover')]);
    const a = JSON.parse(first.stdout);
    const b = JSON.parse(second.stdout);
    expect(a.id).toBe(b.id);
    expect([a.joined, b.joined].sort()).toEqual([false, true]);
    let history: Array<{ id: string; result: string; kind: string; phases: Array<{ name: string }> }> = [];
    for (let i = 0; i < 300 && history[0]?.result !== 'succeeded'; i += 1) {
      await new Promise((r) => setTimeout(r, 200));
      history = JSON.parse((await baton('--json', 'history')).stdout);
    }
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      id: a.id,
      kind: 'whole-vm',
      result: 'succeeded',
      trigger: 'request on vm-a',
    });
    const status = JSON.parse((await baton('--json', 'status')).stdout);
    expect(status.apps[0]).toMatchObject({ name: 'kvd', vm: 'vm-b' });
    await auditDaemon(stateDir);
  });

  it('grows an app from the pool on request, with cache started again on the new active after the failover', async () => {
    const result = await baton('--json', 'request', '--app', 'kvd', '--memory', '192MiB');
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ grantedBytes: 64 * 2 ** 20 });
    const table = JSON.parse((await baton('--json', 'table')).stdout);
    const kvd = table.areas.find((a: { name: string }) => a.name === 'app:kvd');
    expect(kvd).toMatchObject({ sizeBytes: 192 * 2 ** 20, pluggedBytes: 192 * 2 ** 20, user: 'vm-b' });
    // cache went back to the pool with vm-a and took 32 MiB again on vm-b: 512 - 128 - 64 - 32.
    expect(table.areas.find((a: { name: string }) => a.name === 'app:cache')).toMatchObject({
      sizeBytes: 32 * 2 ** 20,
      user: 'vm-b',
    });
    expect(table.areas.find((a: { name: string }) => a.name === 'pool').sizeBytes).toBe(288 * 2 ** 20);
  });

  it('injects an app crash that the daemon restarts in place', async () => {
    expect((await baton('inject', '--fault', 'app-crash', '--app', 'kvd')).exitCode).toBe(0);
    let restarts = 0;
    for (let i = 0; i < 150 && restarts < 1; i += 1) {
      await new Promise((r) => setTimeout(r, 200));
      const status = JSON.parse((await baton('--json', 'status')).stdout);
      restarts = status.apps.find((a: { name: string }) => a.name === 'kvd').restarts;
    }
    expect(restarts).toBe(1);
    expect(JSON.parse((await baton('--json', 'history')).stdout)).toHaveLength(1);
    await auditDaemon(stateDir);
  });

  it('stops on down, after which commands say no daemon is running', async () => {
    expect((await baton('down')).exitCode).toBe(0);
    await new Promise((resolve) => daemon?.once('exit', resolve));
    expect(daemon?.exitCode).toBe(0);
    const status = await baton('status');
    expect(status.exitCode).toBe(4);
    expect(status.stderr.trim()).toBe(
      `baton: No baton daemon is running on ${stateDir}: start one with \`baton up\``,
    );
    expect(qemuPidsUnder(stateDir)).toEqual([]);
  });
});
