// Durability (RELIABILITY.md I3, I4): kill -9 of the daemon loses nothing; a restart re-attaches to the
// running QEMUs without restarting VMs or apps; a corrupted state file falls back to the previous copy;
// a process reusing a recorded pid is never signalled. Crashes inside a failover: crash-points.test.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvClient } from '../../src/endpoint/kv-client.js';
import { auditDaemon, qemuPidsUnder } from '../helpers/audit.js';
import { BatonDaemon, isAlive } from '../helpers/daemon.js';

const stateDir = mkdtempSync(join(tmpdir(), 'baton-dur-'));
const daemon = new BatonDaemon(stateDir);
const RESTARTS = 4;
const decoys: ChildProcess[] = [];

beforeAll(async () => {
  await daemon.start();
}, 180_000);

afterAll(async () => {
  await daemon.kill('SIGTERM');
  for (const decoy of decoys) decoy.kill('SIGKILL');
  expect(qemuPidsUnder(stateDir)).toEqual([]);
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

describe('the daemon survives kill -9', () => {
  it(`re-attaches ${RESTARTS} times: same VM pids, same epoch, no failover, kvd's data readable on the same port`, async () => {
    const before = await daemon.status();
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
      await daemon.kill('SIGKILL');
      for (const pid of pids) expect(isAlive(pid ?? -1)).toBe(true);
      if (round === 2) {
        // A corrupted state.json: detected at load, the previous copy used, and a line says so.
        const path = join(stateDir, 'state.json');
        writeFileSync(path, readFileSync(path, 'utf8').replace('"epoch"', '"epocH"'));
      }
      upMs.push((await daemon.start()).upMs);
      reattachMs.push(Number(/pair re-attached in (\d+) ms/.exec(daemon.output())?.[1] ?? -1));
      expect(daemon.output()).toContain('re-attached to vm-a');
      if (round === 2) expect(daemon.output()).toMatch(/state: state\.json .*using state\.prev\.json/);
      const after = await daemon.status();
      expect(after.vms.map((vm) => vm.pid)).toEqual(pids);
      expect(after.epoch).toBe(before.epoch);
      expect(after.state).toBe('protected');
      expect(JSON.parse((await daemon.cli('--json', 'history')).stdout)).toEqual([]);
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
    await daemon.kill('SIGKILL');
    await daemon.start({}, ['--leave-running']);
    await daemon.kill('SIGTERM');
    for (const pid of pids) expect(isAlive(pid ?? -1)).toBe(true);
    await daemon.start();
    expect(daemon.output()).toContain('re-attached to vm-a');
    expect((await daemon.status()).vms.map((vm) => vm.pid)).toEqual(pids);
    await auditDaemon(stateDir, { daemonOutput: daemon.output() });
  });

  it('never signals a process that reuses a recorded pid, and treats that VM as gone', async () => {
    expect(await daemon.down()).toBe(0);
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
    await daemon.start();
    expect(daemon.output()).toContain('cannot re-attach');
    for (const decoy of decoys) {
      expect(isAlive(decoy.pid ?? -1)).toBe(true);
      expect(decoy.signalCode).toBeNull();
    }
    const booted = await daemon.status();
    expect(booted.state).toBe('protected');
    for (const vm of booted.vms) expect(decoys.map((d) => d.pid)).not.toContain(vm.pid);
    expect(await daemon.down()).toBe(0);
    expect(qemuPidsUnder(stateDir)).toEqual([]);
    for (const decoy of decoys) expect(isAlive(decoy.pid ?? -1)).toBe(true);
  });
});
