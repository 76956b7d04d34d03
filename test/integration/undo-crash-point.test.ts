// A daemon killed during an undo (issue 11, RELIABILITY.md I1-I5): a move of kvd (or a whole-VM
// failover) fails at its start (`start:fail`), its undos begin, and the daemon is SIGKILLed right
// after the intent of the disk's undo (`undo-disk:crash`). The next `up` finds the operation rolling
// back and finishes the undos instead of resuming forward. For the move, kvd serves from the VM it
// never left, the record says `failed` with the original error, and every acknowledged write reads
// back. For the whole-VM failover the old active is fenced, so kvd has nowhere to run: the pair is
// `blocked` with the reason, the standby's slot unplugged and its disk detached again. Each ends
// with the audit.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvClient } from '../../src/endpoint/kv-client.js';
import type { JournalEvent } from '../../src/state/journal-read.js';
import { auditDaemon, qemuPidsUnder } from '../helpers/audit.js';
import { BatonDaemon } from '../helpers/daemon.js';

const stateDir = mkdtempSync(join(tmpdir(), 'baton-undo-crash-'));
const daemon = new BatonDaemon(stateDir);
const wholeVmStateDir = mkdtempSync(join(tmpdir(), 'baton-undo-crash-vm-'));
const wholeVmDaemon = new BatonDaemon(wholeVmStateDir);
const FAULT_POINTS = { BATON_FAULT_POINT: 'start:fail,undo-disk:crash' };

beforeAll(async () => {
  await daemon.start(FAULT_POINTS);
}, 180_000);

afterAll(async () => {
  for (const [each, dir] of [
    [daemon, stateDir],
    [wholeVmDaemon, wholeVmStateDir],
  ] as const) {
    await each.kill('SIGTERM');
    expect(qemuPidsUnder(dir)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

function journal(dir = stateDir): JournalEvent[] {
  return readFileSync(join(dir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as JournalEvent);
}

describe('a daemon killed during an undo', () => {
  it('finishes the roll-back on the next up: kvd on the VM it left, record failed with the original error, audit passing, every write readable', async () => {
    const before = await daemon.status();
    const active = before.vms.find((vm) => vm.role === 'active');
    const port = before.apps.find((a) => a.name === 'kvd')?.endpointPort ?? 0;
    expect(before.apps.find((a) => a.name === 'kvd')?.vm).toBe(active?.name);
    const writer = await KvClient.connect(port);
    expect(await writer.request('SET undo-crash 1')).toBe('OK');
    writer.close();

    const crashed = daemon.exited();
    await daemon.cli('failover', '--app', 'kvd');
    expect(await crashed).toBe('SIGKILL');
    const events = journal();
    const rollingBack = events.find((event) => event.type === 'rolling-back');
    expect(rollingBack).toMatchObject({ error: 'fault point start:fail: start failed without acting' });
    expect(events.at(-1)).toMatchObject({ type: 'intent', mark: 'undo', phase: 'disk', name: 'undo-disk' });
    // The plug's undo ran (and ended) before the crash; nothing ran forward after the failure.
    const afterMark = events.slice(events.indexOf(rollingBack as JournalEvent) + 1);
    expect(afterMark.map((event) => `${event.type} ${String(event.name)}`)).toEqual([
      'intent undo-plug',
      'result undo-plug',
      'intent undo-disk',
    ]);

    const restartedAtMs = performance.now();
    await daemon.start();
    const restartMs = Math.round(performance.now() - restartedAtMs);
    expect(daemon.output()).toContain(
      'the roll-back was interrupted: undo disk for kvd, disk-detach for kvd, unplug for kvd, stop for kvd',
    );
    const after = await daemon.status();
    expect(after.vms.map((vm) => vm.pid)).toEqual(before.vms.map((vm) => vm.pid));
    expect(after.apps.find((a) => a.name === 'kvd')).toMatchObject({ vm: active?.name, endpointPort: port });
    const history = await daemon.history();
    expect(history.at(-1)).toMatchObject({
      kind: 'app',
      app: 'kvd',
      result: 'failed',
      error: 'fault point start:fail: start failed without acting',
    });
    const resumed = journal().slice(events.length);
    expect(
      resumed.filter((event) => event.mark === 'undo').map((event) => `${event.type} ${String(event.name)}`),
    ).toEqual([
      'intent undo-disk',
      'result undo-disk',
      'intent undo-disk-detach',
      'result undo-disk-detach',
      'intent undo-unplug',
      'result undo-unplug',
      'intent undo-stop',
      'result undo-stop',
    ]);
    expect(resumed.some((event) => event.type === 'intent' && event.mark === undefined)).toBe(false);

    const audit = await auditDaemon(stateDir, { daemonOutput: daemon.output(), previousEpoch: 0 });
    expect(audit.status.state).toBe('protected');
    const reader = await KvClient.connect(port, 60_000);
    expect(await reader.request('GET undo-crash')).toBe('VALUE 1');
    reader.close();
    console.log(`roll-back finished by the next up: ${restartMs} ms from start to up`);
    expect(await daemon.down()).toBe(0);
    expect(qemuPidsUnder(stateDir)).toEqual([]);
  }, 600_000);
});

describe('a daemon killed during the undo of a whole-VM failover', () => {
  it('finishes the roll-back on the next up: blocked with the reason, the standby as before the failover, audit passing', async () => {
    await wholeVmDaemon.start(FAULT_POINTS);
    const before = await wholeVmDaemon.status();
    const active = before.vms.find((vm) => vm.role === 'active');
    const standby = before.vms.find((vm) => vm.role === 'standby');
    const crashed = wholeVmDaemon.exited();
    expect((await wholeVmDaemon.cli('inject', '--fault', 'panic')).exitCode).toBe(0);
    expect(await crashed).toBe('SIGKILL');
    const events = journal(wholeVmStateDir);
    const rollingBack = events.find((event) => event.type === 'rolling-back');
    expect(rollingBack).toMatchObject({ error: 'fault point start:fail: start failed without acting' });
    expect(events.at(-1)).toMatchObject({ type: 'intent', mark: 'undo', phase: 'disk', name: 'undo-disk' });

    await wholeVmDaemon.start();
    expect(wholeVmDaemon.output()).toContain('the roll-back was interrupted: undo disk for kvd');
    const resumed = journal(wholeVmStateDir).slice(events.length);
    expect(
      resumed.filter((event) => event.mark === 'undo').map((event) => `${event.type} ${String(event.name)}`),
    ).toEqual(['intent undo-disk', 'result undo-disk']);
    expect(resumed.some((event) => event.type === 'intent' && event.mark === undefined)).toBe(false);
    const after = await wholeVmDaemon.status();
    expect(after.state).toBe('blocked');
    expect(after.blockedReason).toContain('start failed without acting');
    // The standby QEMU is the same process; the fenced active is gone.
    expect(after.vms.find((vm) => vm.name === standby?.name)?.pid).toBe(standby?.pid);
    expect(qemuPidsUnder(wholeVmStateDir)).toEqual([standby?.pid]);
    expect(after.vms.find((vm) => vm.name === active?.name)?.state).not.toBe('running');
    const history = await wholeVmDaemon.history();
    expect(history.at(-1)).toMatchObject({
      kind: 'whole-vm',
      result: 'blocked',
      error: 'fault point start:fail: start failed without acting',
    });
    // The table names no area of the standby for kvd, and QEMU agrees (no drift at the re-attach).
    const audit = await auditDaemon(wholeVmStateDir, {
      daemonOutput: wholeVmDaemon.output(),
      previousEpoch: 0,
    });
    expect(audit.table.areas.find((a) => a.name === 'app:kvd')?.user).not.toBe(standby?.name);
    expect(await wholeVmDaemon.down()).toBe(0);
    expect(qemuPidsUnder(wholeVmStateDir)).toEqual([]);
  }, 600_000);
});
