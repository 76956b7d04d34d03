// Crash points (issue 6, RELIABILITY.md I1-I5): the daemon is killed with SIGKILL right after it journals
// the intent of each phase of a whole-VM failover and of a single-app move; the next daemon
// re-attaches and finishes (or, before the unplug of a move, rolls back) from the journal. The moves
// alternate direction: kvd moves back from the standby with the same phases. Each
// round ends with the audit and every write kvd acknowledged so far read back. The QEMUs outlive
// each killed daemon, so one pair serves every round.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusView } from '../../src/daemon/views.js';
import { KvClient } from '../../src/endpoint/kv-client.js';
import { APP_MOVE_PHASES, WHOLE_VM_PHASES } from '../../src/state/phases.js';
import { auditDaemon, qemuPidsUnder } from '../helpers/audit.js';
import { BatonDaemon, isAlive } from '../helpers/daemon.js';

const stateDir = mkdtempSync(join(tmpdir(), 'baton-crash-'));
const daemon = new BatonDaemon(stateDir);
/** Every write kvd acknowledged: key → value. */
const acknowledged = new Map<string, string>();
let savedEpoch = 0;

beforeAll(async () => {
  await daemon.start();
}, 180_000);

afterAll(async () => {
  await daemon.kill('SIGTERM');
  expect(qemuPidsUnder(stateDir)).toEqual([]);
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

function rolesOf(view: StatusView) {
  const byRole = (role: string) => {
    const vm = view.vms.find((v) => v.role === role);
    if (vm === undefined) throw new Error(`no ${role} VM in ${JSON.stringify(view.vms)}`);
    return vm;
  };
  return { active: byRole('active'), standby: byRole('standby') };
}

function kvdPort(view: StatusView): number {
  return view.apps.find((a) => a.name === 'kvd')?.endpointPort ?? 0;
}

/** kill -9 of the daemon (its QEMUs run on), then a new one re-attaches with the crash point armed. */
async function restartWithCrashPoint(phase: string): Promise<StatusView> {
  await daemon.kill('SIGKILL');
  await daemon.start({ BATON_FAULT_POINT: `${phase}:crash` });
  expect(daemon.output()).toContain('re-attached to');
  const view = await daemon.status();
  expect(view.state).toBe('protected');
  return view;
}

/** Asks for a failover (`baton failover [--app kvd]`) and expects the crash point to kill the daemon at `phase`. */
async function failOverInto(phase: string, args: string[]): Promise<void> {
  const crashed = daemon.exited();
  await daemon.cli('failover', ...args);
  expect(await crashed).toBe('SIGKILL');
  const journal = readFileSync(join(stateDir, 'events.jsonl'), 'utf8');
  expect(journal).toMatch(new RegExp(`"phase":"${phase}".*"type":"intent"`));
}

function secondsSince(startedAtMs: number): number {
  return Math.round((performance.now() - startedAtMs) / 100) / 10;
}

async function writeAcknowledged(view: StatusView, key: string): Promise<void> {
  const client = await KvClient.connect(kvdPort(view));
  expect(await client.request(`SET ${key} ${view.epoch}`)).toBe('OK');
  acknowledged.set(key, String(view.epoch));
  client.close();
}

/** The audit (I1-I5) once the pair settled, then every acknowledged write read back through kvd's endpoint. */
async function auditAndRead(): Promise<void> {
  const audit = await auditDaemon(stateDir, { daemonOutput: daemon.output(), previousEpoch: savedEpoch });
  savedEpoch = audit.savedEpoch;
  expect(audit.status.state).toBe('protected');
  const client = await KvClient.connect(kvdPort(audit.status), 60_000);
  for (const [key, value] of acknowledged) expect(await client.request(`GET ${key}`)).toBe(`VALUE ${value}`);
  client.close();
}

describe('a daemon killed inside a failover', () => {
  it('finishes a whole-VM failover killed at each of its phases: kvd on the standby, audit passing, every write readable', async () => {
    for (const [round, crashAt] of WHOLE_VM_PHASES.entries()) {
      const roundStartedAtMs = performance.now();
      const before = await restartWithCrashPoint(crashAt);
      const { active, standby } = rolesOf(before);
      await writeAcknowledged(before, `wvm-${crashAt}`);
      await failOverInto(crashAt, []);
      const journal = readFileSync(join(stateDir, 'events.jsonl'), 'utf8');
      // The control socket's peer credentials: the API recorded who asked for the failover.
      if (round === 0)
        expect(journal).toMatch(new RegExp(`"url":"/v1/failover","uid":${process.getuid?.() ?? 0}`));
      expect(isAlive(standby.pid ?? -1)).toBe(true);
      await daemon.start();
      expect(daemon.output()).toContain('resuming failover');
      const after = await daemon.status();
      expect(after.vms.find((vm) => vm.name === standby.name)).toMatchObject({
        role: 'active',
        pid: standby.pid,
      });
      expect(isAlive(active.pid ?? -1)).toBe(false);
      expect(after.apps.find((a) => a.name === 'kvd')).toMatchObject({
        vm: standby.name,
        endpointPort: kvdPort(before),
      });
      const history = await daemon.history();
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

  it('finishes or rolls back a single-app move killed at each of its phases, in both directions: kvd in one VM, audit passing, every write readable', async () => {
    let failovers = (await daemon.history()).length;
    const directions = new Set<string>();
    for (const crashAt of APP_MOVE_PHASES) {
      const roundStartedAtMs = performance.now();
      const before = await restartWithCrashPoint(crashAt);
      // kvd moves away from wherever it runs: from the active at first, back from the standby
      // after each move that finished (the move back takes the same plan and phases).
      const source = before.apps.find((a) => a.name === 'kvd')?.vm;
      const target = before.vms.find((vm) => vm.name !== source)?.name;
      const roleOf = (name: string | null | undefined) => before.vms.find((vm) => vm.name === name)?.role;
      await writeAcknowledged(before, `move-${crashAt}`);
      await failOverInto(crashAt, ['--app', 'kvd']);
      await daemon.start();
      expect(daemon.output()).toContain('resuming the move of kvd');
      // Before the unplug the move is undone (kvd stays); from the unplug on it is finished.
      const isRolledBack = crashAt === 'stop';
      const after = await daemon.status();
      expect(after.vms.map((vm) => [vm.name, vm.role, vm.pid])).toEqual(
        before.vms.map((vm) => [vm.name, vm.role, vm.pid]),
      );
      expect(after.apps.find((a) => a.name === 'kvd')).toMatchObject({
        vm: isRolledBack ? source : target,
        endpointPort: kvdPort(before),
      });
      const history = await daemon.history();
      failovers += 1;
      expect(history).toHaveLength(failovers);
      expect(history.at(-1)).toMatchObject({
        kind: 'app',
        app: 'kvd',
        result: isRolledBack ? 'failed' : 'succeeded',
      });
      await auditAndRead();
      if (!isRolledBack) directions.add(`${roleOf(source)} → ${roleOf(target)}`);
      console.log(
        `app move ${roleOf(source)} → ${roleOf(target)} killed at ${crashAt}: round took ${secondsSince(roundStartedAtMs)} s`,
      );
    }
    expect([...directions].sort()).toEqual(['active → standby', 'standby → active']);
    expect(await daemon.down()).toBe(0);
    expect(qemuPidsUnder(stateDir)).toEqual([]);
    // No leftovers: each fenced VM's run directory went with it.
    expect(readdirSync(join(stateDir, 'run'))).toEqual([]);
  }, 900_000);
});
