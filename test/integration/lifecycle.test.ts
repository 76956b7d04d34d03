// The pair's lifecycle under signals and crashes at any moment (issue 11, RELIABILITY.md I1-I5, I9):
// SIGTERM while `baton up` boots, the daemon killed while it re-protects, a VM killed while the pair
// recovers from another fault, a memory request racing a failover. Each QEMU launch leaves
// its run directory before QEMU starts, so the next daemon finds and stops what a dead one left.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError, callApi } from '../../src/cli/client.js';
import type { StatusView, TableView } from '../../src/daemon/views.js';
import { KvClient } from '../../src/endpoint/kv-client.js';
import { appAreaName } from '../../src/table/index.js';
import { MiB } from '../../src/units.js';
import { auditDaemon, qemuPidsUnder, until } from '../helpers/audit.js';
import { BatonDaemon } from '../helpers/daemon.js';

const stateDirs: string[] = [];
const daemons: BatonDaemon[] = [];

function freshDaemon(prefix: string): BatonDaemon {
  const stateDir = mkdtempSync(join(tmpdir(), `baton-${prefix}-`));
  stateDirs.push(stateDir);
  const daemon = new BatonDaemon(stateDir);
  daemons.push(daemon);
  return daemon;
}

afterAll(async () => {
  for (const daemon of daemons) await daemon.kill('SIGKILL');
  for (const stateDir of stateDirs) {
    for (const pid of qemuPidsUnder(stateDir)) process.kill(pid, 'SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  }
}, 60_000);

function exitCodeOf(daemon: BatonDaemon): Promise<number | null> {
  const child = daemon.current?.process;
  if (child === undefined) return Promise.resolve(null);
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('signals while baton up starts', () => {
  it('(e) stops cleanly on SIGTERM during the boot: exit 0, no QEMU, no run directory, no lock', async () => {
    const daemon = freshDaemon('sigterm-boot');
    daemon.launch();
    // Both QEMUs launched, neither guest up yet (a TCG boot takes seconds).
    await until(() => (qemuPidsUnder(daemon.stateDir).length === 2 ? true : undefined), 60_000, 'two QEMUs');
    expect(daemon.output()).not.toContain('baton is up');
    const exited = exitCodeOf(daemon);
    daemon.current?.process.kill('SIGTERM');
    expect(await exited, daemon.output()).toBe(0);
    expect(daemon.output()).toContain('SIGTERM during start-up');
    expect(qemuPidsUnder(daemon.stateDir)).toEqual([]);
    expect(readdirSync(join(daemon.stateDir, 'run'))).toEqual([]);
    expect(existsSync(join(daemon.stateDir, 'baton.lock'))).toBe(false);
    // The next `up` starts from nothing left behind, and its audit passes.
    await daemon.start();
    await auditDaemon(daemon.stateDir, { daemonOutput: daemon.output() });
    expect(await daemon.down()).toBe(0);
    expect(qemuPidsUnder(daemon.stateDir)).toEqual([]);
  }, 300_000);
});

describe('the daemon killed while it re-protects', () => {
  it('(f) the next up stops the half-booted standby, and after down no QEMU of the state directory runs', async () => {
    const daemon = freshDaemon('kill-reprotect');
    await daemon.start();
    const before = await daemon.status();
    const port = before.apps.find((a) => a.name === 'kvd')?.endpointPort ?? 0;
    const writer = await KvClient.connect(port);
    expect(await writer.request('SET before-panic 1')).toBe('OK');
    writer.close();
    expect((await daemon.cli('inject', '--fault', 'panic')).exitCode).toBe(0);
    // After the failover the old active is fenced and booted afresh as the standby: a new QEMU.
    const booting = await until(
      () => {
        const pids = qemuPidsUnder(daemon.stateDir);
        return pids.length === 2 && !pids.includes(before.vms[0]?.pid ?? -1) ? pids : undefined;
      },
      120_000,
      'the fresh standby QEMU of the re-protection',
    );
    // The busybox standby boots in a few seconds on a quiet host: freeze the fresh QEMU (SIGSTOP)
    // so the daemon is surely killed while that boot is half done, whatever the host's speed.
    const beforePids = before.vms.map((vm) => vm.pid);
    const fresh = booting.filter((pid) => !beforePids.includes(pid));
    expect(fresh).toHaveLength(1);
    process.kill(fresh[0] ?? -1, 'SIGSTOP');
    const view = await daemon.status();
    expect(view.vms.find((vm) => vm.role === 'standby')?.state).toBe('booting');
    await daemon.kill('SIGKILL');
    expect(qemuPidsUnder(daemon.stateDir).sort()).toEqual(booting.sort());
    await daemon.start();
    expect(daemon.output()).toContain(`stopped QEMU pid ${fresh[0]}`);
    const audit = await auditDaemon(daemon.stateDir, { daemonOutput: daemon.output() });
    expect(audit.status.state).toBe('protected');
    const reader = await KvClient.connect(port, 60_000);
    expect(await reader.request('GET before-panic')).toBe('VALUE 1');
    reader.close();
    expect(await daemon.down()).toBe(0);
    expect(qemuPidsUnder(daemon.stateDir)).toEqual([]);
    expect(readdirSync(join(daemon.stateDir, 'run'))).toEqual([]);
  }, 400_000);
});

/** Writes `key` through kvd's stable endpoint and remembers it as acknowledged. */
async function writeAcknowledged(
  port: number,
  key: string,
  acknowledged: Map<string, string>,
): Promise<void> {
  const client = await KvClient.connect(port, 60_000);
  expect(await client.request(`SET ${key} ${acknowledged.size + 1}`)).toBe('OK');
  acknowledged.set(key, String(acknowledged.size + 1));
  client.close();
}

async function expectReadable(port: number, acknowledged: Map<string, string>): Promise<void> {
  const client = await KvClient.connect(port, 60_000);
  for (const [key, value] of acknowledged) expect(await client.request(`GET ${key}`)).toBe(`VALUE ${value}`);
  client.close();
}

describe('a fault while the pair recovers from another', () => {
  it('(a) the new active killed during re-protection: kvd answers again once a standby exists, every write readable', async () => {
    const daemon = freshDaemon('kill-new-active');
    await daemon.start();
    const before = await daemon.status();
    const port = before.apps.find((a) => a.name === 'kvd')?.endpointPort ?? 0;
    const [oldActive, oldStandby] = before.vms;
    const acknowledged = new Map<string, string>();
    await writeAcknowledged(port, 'before-panic', acknowledged);
    expect((await daemon.cli('inject', '--fault', 'panic')).exitCode).toBe(0);
    // kvd runs on the old standby and the old active boots afresh as the new standby.
    const reprotecting = await pollStatus(daemon, (view) => {
      const kvd = view.apps.find((a) => a.name === 'kvd');
      const standby = view.vms.find((vm) => vm.role === 'standby');
      return kvd?.vm === oldStandby?.name && kvd?.state === 'running' && standby?.state === 'booting';
    });
    await writeAcknowledged(port, 'after-failover', acknowledged);
    const newActivePid = reprotecting.vms.find((vm) => vm.role === 'active')?.pid ?? -1;
    expect(newActivePid).toBe(oldStandby?.pid);
    process.kill(newActivePid, 'SIGKILL');
    // While no standby is ready the fault is queued, and status says so instead of `protected`.
    const queued = await pollStatus(daemon, (view) =>
      view.vms.some((vm) => vm.pid === newActivePid && vm.state === 'exited'),
    );
    expect(queued.state).not.toBe('protected');
    // Once the standby is up, kvd fails over onto it: a second record in the history.
    await pollStatus(
      daemon,
      (view) => view.state === 'protected' && view.vms.every((vm) => vm.pid !== newActivePid),
      180_000,
    );
    const audit = await auditDaemon(daemon.stateDir, { daemonOutput: daemon.output() });
    expect(audit.history.map((r) => [r.fromVm, r.toVm, r.result])).toEqual([
      [oldActive?.name, oldStandby?.name, 'succeeded'],
      [oldStandby?.name, oldActive?.name, 'succeeded'],
    ]);
    expect(audit.status.apps.find((a) => a.name === 'kvd')?.vm).toBe(oldActive?.name);
    await expectReadable(port, acknowledged);
    expect(await daemon.down()).toBe(0);
    expect(qemuPidsUnder(daemon.stateDir)).toEqual([]);
  }, 400_000);

  it('(b) the standby killed during a whole-VM failover: completed elsewhere or blocked with the reason, never two copies', async () => {
    const daemon = freshDaemon('kill-target');
    await daemon.start();
    const before = await daemon.status();
    const port = before.apps.find((a) => a.name === 'kvd')?.endpointPort ?? 0;
    const [active, standby] = before.vms;
    const acknowledged = new Map<string, string>();
    await writeAcknowledged(port, 'before-failover', acknowledged);
    expect((await daemon.cli('failover')).exitCode).toBe(0);
    process.kill(standby?.pid ?? -1, 'SIGKILL');
    const audit = await auditDaemon(daemon.stateDir, { daemonOutput: daemon.output() });
    const record = audit.history.at(-1);
    expect(record).toMatchObject({ kind: 'whole-vm', fromVm: active?.name, toVm: standby?.name });
    if (record?.result === 'blocked') {
      // Both QEMUs are gone (the active fenced, the standby killed): nothing runs kvd anywhere.
      expect(audit.status.state).toBe('blocked');
      expect(audit.status.blockedReason).toMatch(new RegExp(standby?.name ?? '-'));
      expect(qemuPidsUnder(daemon.stateDir)).toEqual([]);
    } else {
      expect(audit.status.state).toBe('protected');
      await expectReadable(port, acknowledged);
    }
    console.log(`standby killed during a failover: ${record?.result}: ${audit.status.blockedReason ?? ''}`);
    expect(await daemon.down()).toBe(0);
    expect(qemuPidsUnder(daemon.stateDir)).toEqual([]);
  }, 300_000);
});

describe('a memory request racing a failover', () => {
  it('(d) `baton request` sent with `baton failover` through the control API: granted or refused 409 CONFLICT, and the audit (I1-I5) passes after each', async () => {
    const daemon = freshDaemon('request-race');
    await daemon.start();
    const { stateDir } = daemon;
    const kvdBytes = (table: TableView) =>
      table.areas.find((a) => a.name === appAreaName('kvd'))?.sizeBytes ?? 0;
    let previousEpoch = 0;
    const answers: string[] = [];
    for (const order of ['request sent first', 'failover sent first']) {
      const beforeBytes = kvdBytes((await callApi(stateDir, 'GET', '/v1/table')) as TableView);
      const request = () =>
        callApi(stateDir, 'POST', '/v1/request', { app: 'kvd', memory: `${beforeBytes / MiB + 32}MiB` });
      const failover = () => callApi(stateDir, 'POST', '/v1/failover', {});
      // Both on the wire at once: which one the daemon takes first is the race.
      const [requested, failedOver] =
        order === 'request sent first'
          ? await Promise.allSettled([request(), failover()])
          : await Promise.allSettled([failover(), request()]).then(([f, r]) => [r, f] as const);
      expect(failedOver.status, `the failover was accepted (${order})`).toBe('fulfilled');
      let answer: string;
      if (requested.status === 'fulfilled') {
        expect(requested.value).toMatchObject({ grantedBytes: 32 * MiB });
        answer = 'granted';
      } else {
        const error = requested.reason as ApiError;
        expect(error, `the request's answer: ${error.message}`).toBeInstanceOf(ApiError);
        expect({ status: error.status, code: error.code }).toEqual({ status: 409, code: 'CONFLICT' });
        expect(error.message).toMatch(/^Cannot grant memory to kvd: /);
        answer = `refused 409 ${error.code}: ${error.message}`;
      }
      answers.push(`${order}: ${answer}`);
      const audit = await auditDaemon(stateDir, { daemonOutput: daemon.output(), previousEpoch });
      previousEpoch = audit.savedEpoch;
      expect(audit.history.at(-1)?.result).toBe('succeeded');
      expect(kvdBytes(audit.table)).toBe(answer === 'granted' ? beforeBytes + 32 * MiB : beforeBytes);
    }
    console.log(`baton request racing baton failover:\n  ${answers.join('\n  ')}`);
    expect(await daemon.down()).toBe(0);
    expect(qemuPidsUnder(stateDir)).toEqual([]);
  }, 400_000);
});

/** Polls `status` until `isWanted` holds; returns that view. */
async function pollStatus(
  daemon: BatonDaemon,
  isWanted: (view: StatusView) => boolean,
  timeoutMs = 120_000,
): Promise<StatusView> {
  const startedAtMs = performance.now();
  let view = await daemon.status();
  while (!isWanted(view)) {
    if (performance.now() - startedAtMs > timeoutMs)
      throw new Error(`waited ${timeoutMs} ms; last status: ${JSON.stringify(view)}`);
    await new Promise((r) => setTimeout(r, 100));
    view = await daemon.status();
  }
  return view;
}

describe('a restarted daemon that finds the active failed', () => {
  it('(g) killed between a panic and the failover: the next up fails over to the running standby (same pid), recorded in history, every write readable', async () => {
    const daemon = freshDaemon('kill-after-panic');
    // detect:crash: the daemon dies as soon as a fault signal reaches it, before it acts.
    await daemon.start({ BATON_FAULT_POINT: 'detect:crash' });
    const before = await daemon.status();
    const port = before.apps.find((a) => a.name === 'kvd')?.endpointPort ?? 0;
    const [active, standby] = before.vms;
    const acknowledged = new Map<string, string>();
    await writeAcknowledged(port, 'before-panic', acknowledged);
    const died = daemon.exited();
    await daemon.cli('inject', '--fault', 'panic');
    expect(await died).toBe('SIGKILL');
    expect(qemuPidsUnder(daemon.stateDir).sort()).toEqual([active?.pid, standby?.pid].sort());
    const startedAtMs = performance.now();
    await daemon.start();
    expect(daemon.output()).toMatch(/the active vm-a: .*; failing over to vm-b \(GUEST_PANICKED\)/);
    expect(daemon.output()).not.toContain('booting a fresh pair');
    const served = await pollStatus(
      daemon,
      (view) =>
        view.apps.find((a) => a.name === 'kvd')?.state === 'running' &&
        view.vms.find((vm) => vm.role === 'active')?.name === standby?.name,
    );
    console.log(
      `up to kvd served again after the restart: ${Math.round(performance.now() - startedAtMs)} ms`,
    );
    expect(served.vms.find((vm) => vm.role === 'active')).toMatchObject({
      name: standby?.name,
      pid: standby?.pid,
    });
    const audit = await auditDaemon(daemon.stateDir, { daemonOutput: daemon.output() });
    expect(audit.history).toHaveLength(1);
    expect(audit.history[0]).toMatchObject({
      kind: 'whole-vm',
      fromVm: active?.name,
      toVm: standby?.name,
      result: 'succeeded',
      trigger: `GUEST_PANICKED on ${active?.name}`,
    });
    expect(audit.status.vms.find((vm) => vm.name === standby?.name)?.pid).toBe(standby?.pid);
    await expectReadable(port, acknowledged);
    expect(await daemon.down()).toBe(0);
    expect(qemuPidsUnder(daemon.stateDir)).toEqual([]);
  }, 400_000);
});
