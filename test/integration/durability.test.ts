// Durability (RELIABILITY.md I3, I4): kill -9 of the daemon loses nothing; a restart re-attaches to the
// running QEMUs without restarting VMs or apps; a corrupted state file falls back to the previous copy;
// a process reusing a recorded pid is never signalled.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvClient } from '../../src/endpoint/kv-client.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { qemuPidsUnder } from '../helpers/audit.js';

const BATON = join(PACKAGE_ROOT, 'bin', 'baton.js');
const stateDir = mkdtempSync(join(tmpdir(), 'baton-dur-'));
const RESTARTS = 4;

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

async function status() {
  return JSON.parse((await baton('--json', 'status')).stdout) as {
    epoch: number;
    state: string;
    vms: Array<{ name: string; pid: number | null }>;
    apps: Array<{ name: string; vm: string | null; endpointPort: number }>;
  };
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

  it.each(['plug', 'fence', 'start', 'commit'])(
    'finishes a failover interrupted by a crash at its %s phase, from the journal',
    async (crashAt) => {
      daemon = await startDaemon({ BATON_FAULT_POINT: `${crashAt}:crash` });
      const before = await status();
      const port = before.apps.find((a) => a.name === 'kvd')?.endpointPort ?? 0;
      const writer = await KvClient.connect(port);
      expect(await writer.request('SET before-crash yes')).toBe('OK');
      writer.close();
      const crashed = new Promise((resolve) =>
        daemon?.process.once('exit', (_code, signal) => resolve(signal)),
      );
      await baton('failover');
      expect(await crashed).toBe('SIGKILL');
      const journal = readFileSync(join(stateDir, 'events.jsonl'), 'utf8');
      expect(journal).toMatch(new RegExp(`"phase":"${crashAt}".*"type":"intent"`));
      // The control socket's peer credentials: the API recorded who asked for the failover.
      expect(journal).toMatch(new RegExp(`"url":"/v1/failover","uid":${process.getuid?.() ?? 0}`));
      const vmB = before.vms.find((vm) => vm.name === 'vm-b')?.pid ?? -1;
      expect(isAlive(vmB)).toBe(true);
      daemon = await startDaemon();
      expect(daemon.output()).toContain('resuming failover');
      const after = await status();
      expect(after.vms.find((vm) => vm.name === 'vm-b')?.pid).toBe(vmB);
      expect(after.apps.find((a) => a.name === 'kvd')).toMatchObject({ vm: 'vm-b', endpointPort: port });
      const history = JSON.parse((await baton('--json', 'history')).stdout);
      expect(history).toEqual([
        expect.objectContaining({ kind: 'whole-vm', result: 'succeeded', toVm: 'vm-b' }),
      ]);
      const reader = await KvClient.connect(port);
      expect(await reader.request('GET before-crash')).toBe('VALUE yes');
      reader.close();
      const startedAtMs = performance.now();
      while ((await status()).state !== 'protected' && performance.now() - startedAtMs < 120_000)
        await new Promise((r) => setTimeout(r, 500));
      expect((await status()).state).toBe('protected');
      expect((await baton('down')).exitCode).toBe(0);
      await new Promise((resolve) => daemon?.process.once('exit', resolve));
      expect(qemuPidsUnder(stateDir)).toEqual([]);
      // No leftovers: the fenced VM's run directory went with it.
      expect(readdirSync(join(stateDir, 'run'))).toEqual([]);
    },
  );
});
