// Planned switchover on the busybox pair (issue 12 item 3): every hot-standby app moves to the standby
// under client writes without a fence, the old active runs on small as the standby; refusals while
// unprotected or blocked (exit 5); maintenance shown in status; each part ends with the I1-I5 audit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryView, StatusView } from '../../src/daemon/views.js';
import { KvClient } from '../../src/endpoint/kv-client.js';
import { auditDaemon, qemuPidsUnder } from '../helpers/audit.js';
import { BatonDaemon } from '../helpers/daemon.js';

const stateDir = mkdtempSync(join(tmpdir(), 'baton-switchover-'));
const daemon = new BatonDaemon(stateDir);

beforeAll(async () => {
  await daemon.start();
}, 180_000);

afterAll(async () => {
  await daemon.kill('SIGTERM');
  expect(qemuPidsUnder(stateDir)).toEqual([]);
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

function kvdPort(view: StatusView): number {
  const kvd = view.apps.find((a) => a.name === 'kvd');
  if (kvd === undefined) throw new Error('no kvd in the status');
  return kvd.endpointPort;
}

/**
 * Writes `SET sw<n> v<n>` in a loop until stopped, reconnecting when the endpoint drops a
 * connection; a key counts only once kvd answered OK.
 */
function startWriter(port: number) {
  const acknowledged: number[] = [];
  let isStopped = false;
  const done = (async () => {
    let n = 0;
    while (!isStopped) {
      const client = await KvClient.connect(port, 60_000).catch(() => undefined);
      if (client === undefined) continue;
      while (!isStopped) {
        const answer = await client.request(`SET sw${n} v${n}`, 60_000).catch(() => undefined);
        if (answer === 'OK') acknowledged.push(n);
        n += 1;
        if (answer !== 'OK') break;
      }
      client.close();
    }
  })();
  return {
    acknowledged,
    stop: async () => {
      isStopped = true;
      await done;
    },
  };
}

async function waitForState(state: string, timeoutMs: number): Promise<StatusView> {
  const startedAtMs = performance.now();
  for (;;) {
    const status = await daemon.status();
    if (status.state === state) return status;
    if (performance.now() - startedAtMs > timeoutMs)
      throw new Error(`waited ${timeoutMs} ms for ${state}, last saw ${status.state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('baton switchover', () => {
  it('moves kvd to vm-b under writes, no fence, every acknowledged write readable, vm-a running small', async () => {
    const before = await daemon.status();
    expect(before.state).toBe('protected');
    const oldActive = before.vms.find((vm) => vm.role === 'active');
    expect(oldActive?.name).toBe('vm-a');
    const writer = startWriter(kvdPort(before));
    await new Promise((r) => setTimeout(r, 1_000));

    const switched = await daemon.cli('--json', 'switchover');
    await new Promise((r) => setTimeout(r, 1_000));
    await writer.stop();
    expect(switched.exitCode, switched.stderr).toBe(0);
    const record = JSON.parse(switched.stdout) as HistoryView[number];
    console.log(
      `[integration] switchover: ${record.totalMs} ms ${JSON.stringify(record.phases)}; ${writer.acknowledged.length} writes acknowledged`,
    );
    expect(record).toMatchObject({ kind: 'switchover', result: 'succeeded', fromVm: 'vm-a', toVm: 'vm-b' });
    expect(record.phases.map((p) => p.name)).not.toContain('fence');
    const phases = new Set(record.phases.map((p) => p.name.split(':')[0]));
    for (const phase of ['stop', 'unplug', 'plug', 'confirm', 'start', 'healthy', 'commit'])
      expect(phases).toContain(phase);
    expect(await daemon.history()).toEqual([record]);

    // Every acknowledged write is readable on the new active.
    expect(writer.acknowledged.length).toBeGreaterThan(0);
    const reader = await KvClient.connect(kvdPort(before), 60_000);
    for (const n of writer.acknowledged)
      expect(await reader.request(`GET sw${n}`, 60_000)).toBe(`VALUE v${n}`);
    reader.close();

    // The old active runs on as the standby: same QEMU, its app slots unplugged.
    const after = await daemon.status();
    expect(after.state).toBe('protected');
    expect(after.vms.map((vm) => [vm.name, vm.role, vm.state])).toEqual([
      ['vm-b', 'active', 'running'],
      ['vm-a', 'standby', 'running'],
    ]);
    const standby = after.vms.find((vm) => vm.name === 'vm-a');
    expect(standby?.pid).toBe(oldActive?.pid);
    expect(standby?.pluggedBytes).toBe(0);
    expect(after.apps.find((a) => a.name === 'kvd')?.vm).toBe('vm-b');
    await auditDaemon(stateDir, { daemonOutput: daemon.output() });
  }, 300_000);

  it('shows maintenance in status, refuses a switchover while unprotected, holds a panic until maintenance is off', async () => {
    const on = await daemon.cli('--json', 'maintenance', 'on');
    expect(on.exitCode, on.stderr).toBe(0);
    expect(JSON.parse(on.stdout)).toMatchObject({ on: true, heldFaults: [] });
    expect((await daemon.status()).maintenance).toMatchObject({ on: true, since: expect.any(String) });
    const table = await daemon.cli('status');
    expect(table.stdout).toMatch(/maintenance: on since .* \(automatic failovers held\)/);

    // The empty standby's QEMU dies: not a failover, so it is replaced even in maintenance.
    const standby = (await daemon.status()).vms.find((vm) => vm.role === 'standby');
    process.kill(standby?.pid ?? 0, 'SIGKILL');
    await waitForState('re-protecting', 30_000); // status: a fresh standby boots
    const refused = await daemon.cli('switchover');
    expect(refused.exitCode).toBe(5);
    expect(refused.stderr).toMatch(/Cannot switch over: the pair is unprotected/);
    await waitForState('protected', 180_000);

    // A panic of the active is held: shown in status, no failover, until maintenance goes off.
    const active = (await daemon.status()).vms.find((vm) => vm.role === 'active');
    expect((await daemon.cli('inject', '--fault', 'panic')).exitCode).toBe(0);
    const startedAtMs = performance.now();
    let held = (await daemon.status()).maintenance.heldFaults;
    while (held.length === 0 && performance.now() - startedAtMs < 30_000) {
      await new Promise((r) => setTimeout(r, 200));
      held = (await daemon.status()).maintenance.heldFaults;
    }
    expect(held).toEqual([expect.objectContaining({ vm: active?.name, signal: 'GUEST_PANICKED' })]);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await daemon.history()).toHaveLength(1);
    expect((await daemon.cli('status')).stdout).toMatch(/held since .*: GUEST_PANICKED on /);

    const off = await daemon.cli('--json', 'maintenance', 'off');
    expect(JSON.parse(off.stdout)).toMatchObject({ on: false });
    // The fault still stands (no heartbeat since): acted on now.
    await expect
      .poll(async () => (await daemon.history()).length, { timeout: 120_000, interval: 250 })
      .toBe(2);
    const failover = (await daemon.history())[1];
    expect(failover).toMatchObject({ kind: 'whole-vm', result: 'succeeded', fromVm: active?.name });
    expect(failover?.trigger).toBe(`GUEST_PANICKED on ${active?.name}`);
    await waitForState('protected', 180_000);
    expect((await daemon.cli('status')).stdout).not.toMatch(/maintenance/);
    await auditDaemon(stateDir, { daemonOutput: daemon.output() });
  }, 300_000);

  it('blocks after a daemon crash in the middle of a switchover, and refuses another while blocked', async () => {
    await daemon.kill('SIGTERM');
    await daemon.start({ BATON_FAULT_POINT: 'start:crash' });
    const died = daemon.exited();
    await daemon.cli('switchover');
    expect(await died).toBe('SIGKILL');
    await daemon.start();
    const blocked = await waitForState('blocked', 30_000);
    expect(blocked.blockedReason).toMatch(/switchover .* was interrupted by a daemon restart at start/);
    const refused = await daemon.cli('switchover');
    expect(refused.exitCode).toBe(5);
    expect(refused.stderr).toMatch(/Cannot switch over: the pair is blocked/);
    await auditDaemon(stateDir, { daemonOutput: daemon.output() });
  }, 400_000);
});
