// Durability (RELIABILITY.md I3, I4): kill -9 of the daemon loses nothing; a restart re-attaches to the
// running QEMUs without restarting VMs or apps; a corrupted state file falls back to the previous copy;
// a process reusing a recorded pid is never signalled.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi } from '../../src/cli/client.js';
import { KvClient } from '../../src/endpoint/kv-client.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { auditDaemon, qemuPidsUnder } from '../helpers/audit.js';

const BATON = join(PACKAGE_ROOT, 'bin', 'baton.js');
const stateDir = mkdtempSync(join(tmpdir(), 'baton-dur-'));
const RESTARTS = 4;
/** The journaled phases of a whole-VM failover of kvd (src/pair/whole-vm-failover.ts, place-app.ts). */
const WHOLE_VM_PHASES = ['fence', 'disk', 'plug', 'confirm', 'start', 'healthy', 'commit'];
/** The journaled phases of a single-app move (src/pair/app-move.ts, place-app.ts). */
const APP_MOVE_PHASES = [
  'stop',
  'unplug',
  'disk-detach',
  'disk',
  'plug',
  'confirm',
  'start',
  'healthy',
  'commit',
];
/** Every write kvd acknowledged in the fault tests: key → value. */
const acknowledged = new Map<string, string>();
let savedEpoch = 0;

interface Daemon {
  process: ChildProcess;
  output: () => string;
  upMs: number;
}

let daemon: Daemon | undefined;
const decoys: ChildProcess[] = [];

function baton(...args: string[]) {
  return execa('node', [BATON, ...args], {
    reject: false,
    env: { BATON_STATE_DIR: stateDir },
    timeout: 60_000,
  });
}

async function startDaemon(env: Record<string, string> = {}, args: string[] = []): Promise<Daemon> {
  const child = spawn('node', [BATON, 'up', ...args], {
    env: { ...process.env, BATON_STATE_DIR: stateDir, BATON_LOG_LEVEL: 'warn', ...env },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const startedAtMs = performance.now();
  while (!output.includes('baton is up')) {
    if (performance.now() - startedAtMs > 150_000 || child.exitCode !== null)
      throw new Error(`daemon did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { process: child, output: () => output, upMs: Math.round(performance.now() - startedAtMs) };
}

async function killDaemon(signal: NodeJS.Signals): Promise<void> {
  const child = daemon?.process;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

type Status = {
  epoch: number;
  state: string;
  vms: Array<{ name: string; role: 'active' | 'standby'; pid: number | null }>;
  apps: Array<{ name: string; vm: string | null; endpointPort: number }>;
};

async function status(): Promise<Status> {
  return (await callApi(stateDir, 'GET', '/v1/status')) as Status;
}

async function historyOf(): Promise<Array<Record<string, unknown>>> {
  return (await callApi(stateDir, 'GET', '/v1/history')) as Array<Record<string, unknown>>;
}

function rolesOf(view: Status) {
  const byRole = (role: string) => {
    const vm = view.vms.find((v) => v.role === role);
    if (vm === undefined) throw new Error(`no ${role} VM in ${JSON.stringify(view.vms)}`);
    return vm;
  };
  return { active: byRole('active'), standby: byRole('standby') };
}

function kvdPort(view: Status): number {
  return view.apps.find((a) => a.name === 'kvd')?.endpointPort ?? 0;
}

/** kill -9 of the daemon (its QEMUs run on), then a new one re-attaches with the crash point armed. */
async function restartWithCrashPoint(phase: string): Promise<Status> {
  await killDaemon('SIGKILL');
  daemon = await startDaemon({ BATON_FAULT_POINT: `${phase}:crash` });
  expect(daemon.output()).toContain('re-attached to');
  const view = await status();
  expect(view.state).toBe('protected');
  return view;
}

function secondsSince(startedAtMs: number): number {
  return Math.round((performance.now() - startedAtMs) / 100) / 10;
}

/** Resolves with the signal that ends the current daemon. */
function exitSignal(): Promise<NodeJS.Signals | null> {
  return new Promise((resolve) => daemon?.process.once('exit', (_code, signal) => resolve(signal)));
}

async function writeAcknowledged(view: Status, key: string): Promise<void> {
  const client = await KvClient.connect(kvdPort(view));
  expect(await client.request(`SET ${key} ${view.epoch}`)).toBe('OK');
  acknowledged.set(key, String(view.epoch));
  client.close();
}

/** The audit (I1-I5) once the pair settled, then every acknowledged write read back through kvd's endpoint. */
async function auditAndRead(): Promise<void> {
  const audit = await auditDaemon(stateDir, {
    daemonOutput: daemon?.output() ?? '',
    previousEpoch: savedEpoch,
  });
  savedEpoch = audit.savedEpoch;
  expect(audit.status.state).toBe('protected');
  const client = await KvClient.connect(kvdPort(audit.status), 60_000);
  for (const [key, value] of acknowledged) expect(await client.request(`GET ${key}`)).toBe(`VALUE ${value}`);
  client.close();
}

beforeAll(async () => {
  daemon = await startDaemon();
}, 180_000);

afterAll(async () => {
  await killDaemon('SIGTERM');
  for (const decoy of decoys) decoy.kill('SIGKILL');
  expect(qemuPidsUnder(stateDir)).toEqual([]);
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

describe('the daemon survives kill -9', () => {
  it(`re-attaches ${RESTARTS} times: same VM pids, same epoch, no failover, kvd's data readable on the same port`, async () => {
    const before = await status();
    expect(before.state).toBe('protected');
    const pids = before.vms.map((vm) => vm.pid);
    const kvd = before.apps.find((app) => app.name === 'kvd');
    expect(kvd?.vm).toBe('vm-a');
    const port = kvd?.endpointPort ?? 0;
    const writer = await KvClient.connect(port);
    expect(await writer.request('SET before-restarts 1')).toBe('OK');
    writer.close();
    const upMs: number[] = [];
    const reattachMs: number[] = [];
    for (let round = 1; round <= RESTARTS; round += 1) {
      await killDaemon('SIGKILL');
      for (const pid of pids) expect(isAlive(pid ?? -1)).toBe(true);
      if (round === 2) {
        // A corrupted state.json: detected at load, the previous copy used, and a line says so.
        const path = join(stateDir, 'state.json');
        writeFileSync(path, readFileSync(path, 'utf8').replace('"epoch"', '"epocH"'));
      }
      daemon = await startDaemon();
      upMs.push(daemon.upMs);
      reattachMs.push(Number(/pair re-attached in (\d+) ms/.exec(daemon.output())?.[1] ?? -1));
      expect(daemon.output()).toContain('re-attached to vm-a');
      if (round === 2) expect(daemon.output()).toMatch(/state: state\.json .*using state\.prev\.json/);
      const after = await status();
      expect(after.vms.map((vm) => vm.pid)).toEqual(pids);
      expect(after.epoch).toBe(before.epoch);
      expect(after.state).toBe('protected');
      expect(JSON.parse((await baton('--json', 'history')).stdout)).toEqual([]);
      const app = after.apps.find((a) => a.name === 'kvd');
      expect(app).toMatchObject({ vm: 'vm-a', endpointPort: port });
      const client = await KvClient.connect(port);
      expect(await client.request('GET before-restarts')).toBe('VALUE 1');
      expect(await client.request(`SET round${round} ${round}`)).toBe('OK');
      if (round > 1) expect(await client.request(`GET round${round - 1}`)).toBe(`VALUE ${round - 1}`);
      client.close();
    }
    console.log(
      `restart to 'baton is up': ${upMs.join(', ')} ms; of which re-attach: ${reattachMs.join(', ')} ms`,
    );
    // `up --leave-running`: SIGTERM leaves the VMs and apps running for the next daemon.
    await killDaemon('SIGKILL');
    daemon = await startDaemon({}, ['--leave-running']);
    await killDaemon('SIGTERM');
    for (const pid of pids) expect(isAlive(pid ?? -1)).toBe(true);
    daemon = await startDaemon();
    expect(daemon.output()).toContain('re-attached to vm-a');
    expect((await status()).vms.map((vm) => vm.pid)).toEqual(pids);
  });

  it('never signals a process that reuses a recorded pid, and treats that VM as gone', async () => {
    expect((await baton('down')).exitCode).toBe(0);
    await new Promise((resolve) => daemon?.process.once('exit', resolve));
    expect(qemuPidsUnder(stateDir)).toEqual([]);
    // Two processes standing where the VMs were: same pids as recorded, other start times.
    const attachPath = join(stateDir, 'vms.json');
    const record = JSON.parse(readFileSync(attachPath, 'utf8'));
    const previous = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8'));
    expect(previous).toBeDefined();
    const forged = ['vm-a', 'vm-b'].map((name) => {
      const decoy = spawn('sleep', ['600'], { stdio: 'ignore' });
      decoys.push(decoy);
      return {
        name,
        role: name === 'vm-a' ? 'active' : 'standby',
        pid: decoy.pid,
        startTime: '1',
        runDir: join(stateDir, 'run', `${name}-gone`),
        forwards: {},
        spec: { name, runDir: join(stateDir, 'run', `${name}-gone`) },
      };
    });
    writeFileSync(attachPath, JSON.stringify({ ...record, vms: forged }));
    daemon = await startDaemon();
    expect(daemon.output()).toContain('cannot re-attach');
    for (const decoy of decoys) {
      expect(isAlive(decoy.pid ?? -1)).toBe(true);
      expect(decoy.signalCode).toBeNull();
    }
    const booted = await status();
    expect(booted.state).toBe('protected');
    for (const vm of booted.vms) expect(decoys.map((d) => d.pid)).not.toContain(vm.pid);
    expect((await baton('down')).exitCode).toBe(0);
    await new Promise((resolve) => daemon?.process.once('exit', resolve));
    expect(qemuPidsUnder(stateDir)).toEqual([]);
    for (const decoy of decoys) expect(isAlive(decoy.pid ?? -1)).toBe(true);
  });

  it('finishes a whole-VM failover killed at each of its phases: kvd on the standby, audit passing, every write readable', async () => {
    if (daemon === undefined || daemon.process.exitCode !== null || daemon.process.signalCode !== null)
      daemon = await startDaemon();
    for (const [round, crashAt] of WHOLE_VM_PHASES.entries()) {
      const roundStartedAtMs = performance.now();
      const before = await restartWithCrashPoint(crashAt);
      const { active, standby } = rolesOf(before);
      await writeAcknowledged(before, `wvm-${crashAt}`);
      const crashed = exitSignal();
      await baton('failover');
      expect(await crashed).toBe('SIGKILL');
      const journal = readFileSync(join(stateDir, 'events.jsonl'), 'utf8');
      expect(journal).toMatch(new RegExp(`"phase":"${crashAt}".*"type":"intent"`));
      // The control socket's peer credentials: the API recorded who asked for the failover.
      if (round === 0)
        expect(journal).toMatch(new RegExp(`"url":"/v1/failover","uid":${process.getuid?.() ?? 0}`));
      expect(isAlive(standby.pid ?? -1)).toBe(true);
      daemon = await startDaemon();
      expect(daemon.output()).toContain('resuming failover');
      const after = await status();
      expect(after.vms.find((vm) => vm.name === standby.name)).toMatchObject({
        role: 'active',
        pid: standby.pid,
      });
      expect(isAlive(active.pid ?? -1)).toBe(false);
      expect(after.apps.find((a) => a.name === 'kvd')).toMatchObject({
        vm: standby.name,
        endpointPort: kvdPort(before),
      });
      const history = await historyOf();
      expect(history).toHaveLength(round + 1);
      expect(history.at(-1)).toMatchObject({
        kind: 'whole-vm',
        result: 'succeeded',
        fromVm: active.name,
        toVm: standby.name,
      });
      await auditAndRead();
      console.log(`whole-VM failover killed at ${crashAt}: round took ${secondsSince(roundStartedAtMs)} s`);
    }
  }, 900_000);

  it('finishes or rolls back a single-app move killed at each of its phases: kvd in one VM, audit passing, every write readable', async () => {
    let failovers = (await historyOf()).length;
    for (const crashAt of APP_MOVE_PHASES) {
      const roundStartedAtMs = performance.now();
      const before = await restartWithCrashPoint(crashAt);
      const { active, standby } = rolesOf(before);
      expect(before.apps.find((a) => a.name === 'kvd')?.vm).toBe(active.name);
      await writeAcknowledged(before, `move-${crashAt}`);
      const crashed = exitSignal();
      await baton('failover', '--app', 'kvd');
      expect(await crashed).toBe('SIGKILL');
      const journal = readFileSync(join(stateDir, 'events.jsonl'), 'utf8');
      expect(journal).toMatch(new RegExp(`"phase":"${crashAt}".*"type":"intent"`));
      daemon = await startDaemon();
      expect(daemon.output()).toContain('resuming the move of kvd');
      // Before the unplug the move is undone (kvd stays); from the unplug on it is finished.
      const isRolledBack = crashAt === 'stop';
      const after = await status();
      expect(after.vms.map((vm) => vm.pid)).toEqual(before.vms.map((vm) => vm.pid));
      expect(after.apps.find((a) => a.name === 'kvd')).toMatchObject({
        vm: isRolledBack ? active.name : standby.name,
        endpointPort: kvdPort(before),
      });
      const history = await historyOf();
      failovers += 1;
      expect(history).toHaveLength(failovers);
      expect(history.at(-1)).toMatchObject({
        kind: 'app',
        app: 'kvd',
        result: isRolledBack ? 'failed' : 'succeeded',
      });
      await auditAndRead();
      if (isRolledBack) continue;
      // kvd runs on the standby now: a whole-VM failover makes that VM the active for the next round.
      await baton('failover');
      while ((await historyOf()).length < failovers + 1) await new Promise((r) => setTimeout(r, 250));
      failovers += 1;
      await auditAndRead();
      expect((await status()).apps.find((a) => a.name === 'kvd')?.vm).toBe(standby.name);
      console.log(`app move killed at ${crashAt}: round took ${secondsSince(roundStartedAtMs)} s`);
    }
    expect((await baton('down')).exitCode).toBe(0);
    await new Promise((resolve) => daemon?.process.once('exit', resolve));
    expect(qemuPidsUnder(stateDir)).toEqual([]);
    // No leftovers: each fenced VM's run directory went with it.
    expect(readdirSync(join(stateDir, 'run'))).toEqual([]);
  }, 900_000);
});
