// The pair's lifecycle under signals and crashes at any moment (issue 11, RELIABILITY.md I1-I5, I9):
// SIGTERM while `baton up` boots, the daemon killed while it re-protects. Each QEMU launch leaves
// its run directory before QEMU starts, so the next daemon finds and stops what a dead one left.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KvClient } from '../../src/endpoint/kv-client.js';
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
    const view = await daemon.status();
    expect(view.vms.find((vm) => vm.role === 'standby')?.state).toBe('booting');
    await daemon.kill('SIGKILL');
    expect(qemuPidsUnder(daemon.stateDir).sort()).toEqual(booting.sort());
    await daemon.start();
    const fresh = booting.filter((pid) => pid !== view.vms.find((vm) => vm.role === 'active')?.pid);
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
