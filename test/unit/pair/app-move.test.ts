import { beforeEach, describe, expect, it } from 'vitest';
import { AgentError, AppMoveRefusedError, MemoryStuckError, TableRequestError } from '../../../src/errors.js';
import type { MemoryTarget } from '../../../src/memory/mechanism.js';
import { type AppMoveTrigger, type MoveHost, moveApp, planMove } from '../../../src/pair/app-move.js';
import type { Pair } from '../../../src/pair/pair.js';
import type { FailoverRecord } from '../../../src/state/history.js';
import {
  appAreaName,
  assertInvariants,
  findArea,
  moveApp as moveInTable,
  startApp,
} from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';
import { type FakePair, fakePair } from './fake-pair.js';

const trigger = { reason: 'kvd crashed: crash loop', detectedAtMs: performance.now() };
let f: FakePair;

beforeEach(async () => {
  f = await fakePair();
});

/** Plans and runs a move of `app` as the pair does (refusals thrown before anything changes). */
async function move(app: string, why: AppMoveTrigger = trigger) {
  const host = f.pair as unknown as MoveHost;
  return moveApp(host, planMove(host, app), why, () => undefined);
}

const phasesOf = (record: FailoverRecord) => record.phases.map((p) => p.name);
const kvdArea = (pair: Pair) => findArea(pair.table, appAreaName('kvd'));
const cronArea = (pair: Pair) => findArea(pair.table, appAreaName('cron'));

describe('moveApp', () => {
  it('stops, unplugs and detaches kvd on the active, places it on the standby, commits', async () => {
    const { record } = await move('kvd');
    expect(record).toMatchObject({
      kind: 'app',
      app: 'kvd',
      trigger: 'kvd crashed: crash loop',
      fromVm: 'vm-a',
      toVm: 'vm-b',
      result: 'succeeded',
    });
    expect(phasesOf(record)).toEqual([
      'detect',
      'stop',
      'unplug',
      'disk-detach',
      'disk',
      'plug',
      'confirm',
      'start',
      'healthy',
      'commit',
    ]);
    expect(f.active.calls).toEqual([
      'agent app.stop kvd',
      'qmp device_del id=blk-kvd',
      'qmp blockdev-del node-name=disk-kvd',
    ]);
    expect(f.standby.calls).toEqual([
      'qmp query-pci',
      'qmp query-pci',
      'qmp query-pci',
      'qmp blockdev-add node-name=disk-kvd',
      'qmp device_add id=blk-kvd bus=rp-spare1',
      'agent app.start kvd with disk',
    ]);
    expect(f.mechanism.calls).toEqual(['unplug vm-a slot0', 'plug vm-b slot0 128 MiB']);
    expect(f.pair.history).toEqual([record]);
  });

  it('gives the table the move: kvd on the standby falling back to the active, its size observed, cron untouched, roles kept', async () => {
    const before = f.pair.table;
    await move('kvd');
    expect(kvdArea(f.pair)).toMatchObject({
      user: 'vm-b',
      onFailure: 'vm-a',
      pluggedBytes: 128 * MiB,
      observedBy: 'qmp',
    });
    expect(cronArea(f.pair)).toEqual(cronArea({ table: before } as Pair));
    expect(f.pair.roles).toEqual({ active: 'vm-a', standby: 'vm-b' });
    expect(f.pair.state).toBe('protected');
    assertInvariants(f.pair.table);
  });

  it('routes the endpoint to the standby once kvd is healthy there, holding it meanwhile', async () => {
    await move('kvd');
    const standbyPort = f.standby.vm.forwards.get('kvd');
    expect(f.endpointCalls).toEqual(['hold', `route vm-b:${standbyPort}`]);
  });

  it('takes the highest free root port on the standby', async () => {
    f = await fakePair({ standbyOccupied: { 'rp-spare1': ['blk-other'] } });
    await move('kvd');
    expect(f.standby.calls).toContain('qmp device_add id=blk-kvd bus=rp-spare0');
  });

  it('fails without changing anything when the standby has no free root port', async () => {
    f = await fakePair({ standbyOccupied: { 'rp-spare0': ['a'], 'rp-spare1': ['b'] } });
    const table = f.pair.table;
    const { record } = await move('kvd');
    expect(record).toMatchObject({ result: 'failed' });
    expect(record.error).toBe(
      'Cannot move kvd to vm-b: no free root port for its data disk (2 spare ports, none empty)',
    );
    expect(f.active.calls).toEqual([]);
    expect(f.pair.table).toBe(table);
    expect(f.pair.state).toBe('protected');
    expect(f.endpointCalls).toEqual([]);
  });

  it('counts an app that already exited as stopped', async () => {
    f.active.onAppStop = async () => {
      throw new AgentError({ vm: 'vm-a', agentCode: 'not-running', message: 'app kvd is not running' });
    };
    expect((await move('kvd')).record.result).toBe('succeeded');
  });

  it('refuses an ordinary app before touching anything', async () => {
    const error = await move('cron').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppMoveRefusedError);
    expect((error as Error).message).toBe(
      'Cannot move cron to vm-b: it is not a hot-standby app, only those move to the standby',
    );
    expect(f.active.calls).toEqual([]);
    expect(f.pair.state).toBe('protected');
    expect(f.pair.history).toEqual([]);
  });

  it('refuses an unknown app, a busy pair, and a pair that is not protected', async () => {
    await expect(move('nope')).rejects.toThrow('Cannot move nope to vm-b: no such app in the config');
    Object.assign(f.pair, { state: 'unprotected' });
    await expect(move('kvd')).rejects.toThrow('the pair is unprotected, not protected');
    Object.assign(f.pair, { state: 'protected' });
    Object.assign(f.pair, { isBusy: true });
    await expect(move('kvd')).rejects.toThrow('a failover is under way');
    expect(f.pair.history).toEqual([]);
  });

  it('moves kvd back from the standby to the active with the same steps', async () => {
    f.pair.commitTable((table) => moveInTable(table, { app: 'kvd', toVm: 'vm-b' }).table);
    const { record } = await move('kvd');
    expect(record).toMatchObject({ fromVm: 'vm-b', toVm: 'vm-a', result: 'succeeded' });
    expect(f.standby.calls.slice(0, 1)).toEqual(['agent app.stop kvd']);
    expect(f.mechanism.calls).toEqual(['unplug vm-b slot0', 'plug vm-a slot0 128 MiB']);
    expect(kvdArea(f.pair)).toMatchObject({ user: 'vm-a', onFailure: 'vm-b' });
    assertInvariants(f.pair.table);
  });

  it('lets the table refuse what it refuses, before touching anything', async () => {
    f.pair.commitTable(
      (table) =>
        startApp(table, {
          app: 'web',
          vm: 'vm-b',
          sizeBytes: 32 * MiB,
          hotStandby: false,
          slot: 'slot0',
        }).table,
    );
    const error = await move('kvd').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TableRequestError);
    expect((error as Error).message).toBe(
      'Cannot move kvd to vm-b: slot slot0 on vm-b is already used by app:web',
    );
    expect(f.active.calls).toEqual([]);
    expect(f.pair.state).toBe('protected');
  });

  it('rolls back when a step after the stop fails: kvd serves from vm-a again, the table untouched', async () => {
    f.mechanism.onPlug = async (target: MemoryTarget, slot: string, bytes: number) => {
      if (target.name === 'vm-b') throw new Error(`plug refused on ${target.name}`);
      f.active.nodeBytes.set(target.slots.findIndex((s) => s.id === slot) + 1, bytes);
      return {
        vm: target.name,
        slot,
        operation: 'plug',
        requestedBytes: bytes,
        pluggedBytes: bytes,
        durationMs: 1,
        seenBy: 'poll',
        observedAtMs: 1,
      };
    };
    const table = f.pair.table;
    const { record, next } = await move('kvd');
    expect(record).toMatchObject({ result: 'failed', error: 'plug refused on vm-b' });
    expect(next).toBe('settled');
    expect(phasesOf(record).slice(-4)).toEqual(['undo-disk', 'undo-disk-detach', 'undo-unplug', 'undo-stop']);
    expect(f.mechanism.calls).toEqual([
      'unplug vm-a slot0',
      'plug vm-b slot0 128 MiB',
      'plug vm-a slot0 128 MiB',
    ]);
    expect(f.active.calls.at(-1)).toBe('agent app.start kvd with disk');
    expect(f.pair.state).toBe('protected');
    expect(f.pair.table).toBe(table);
    expect(f.endpointCalls).toEqual(['hold', `route vm-a:${f.active.vm.forwards.get('kvd')}`]);
  });

  it('blocks when the agent cannot confirm the stop', async () => {
    f.active.onAppStop = async () => {
      throw new AgentError({ vm: 'vm-a', agentCode: 'internal', message: 'kill failed' });
    };
    const { record } = await move('kvd');
    expect(record.result).toBe('blocked');
    expect(f.mechanism.calls).toEqual([]);
  });

  it('escalates to a whole-VM failover when the slot will not unplug', async () => {
    f.mechanism.onUnplug = async () => {
      throw new MemoryStuckError({
        vm: 'vm-a',
        slot: 'slot0',
        operation: 'unplug',
        requestedBytes: 0,
        pluggedBytes: 64 * MiB,
        stalledMs: 20_000,
        elapsedMs: 25_000,
        lastSeenBy: 'poll',
        lastSeenAtMs: 1,
      });
    };
    const { record, next, fault } = await move('kvd');
    expect([record.result, next]).toEqual(['failed', 'escalate']);
    expect(record.error).toMatch(/^Memory unplug stuck on vm-a slot0/);
    expect(fault).toMatchObject({ vm: 'vm-a', signal: 'request' });
    expect(f.pair.history.map((r) => r.kind)).toEqual(['app']);
    expect(f.standby.calls).toEqual(['qmp query-pci']);
  });

  it('escalates at once when the active panics during the stop', async () => {
    f.active.onAppStop = () => new Promise(() => undefined); // The guest is gone: no reply ever.
    setTimeout(() => f.active.emit('GUEST_PANICKED', { action: 'pause' }), 20);
    const startedAtMs = performance.now();
    const { record, next, fault } = await move('kvd');
    expect(performance.now() - startedAtMs).toBeLessThan(1000);
    expect(record).toMatchObject({
      result: 'failed',
      error: 'vm-a failed (GUEST_PANICKED) during the move of kvd',
    });
    expect(next).toBe('escalate');
    expect(fault).toMatchObject({ vm: 'vm-a', signal: 'GUEST_PANICKED' });
    expect(f.mechanism.calls).toEqual([]);
  });

  it('escalates when the hang detector declares the active hung during the unplug', async () => {
    f.mechanism.onUnplug = () => new Promise(() => undefined);
    setTimeout(() => f.active.detector.emit('hang', { signals: ['heartbeat', 'sync'], silenceMs: 3000 }), 20);
    const { record, next, fault } = await move('kvd');
    expect([record.result, next]).toEqual(['failed', 'escalate']);
    expect(phasesOf(record)).toEqual(['detect', 'stop', 'unplug']);
    expect(fault).toMatchObject({ vm: 'vm-a', signal: 'hang' });
  });

  it('finishes the move when the active dies once kvd is out of it, then hands the fault to the pair', async () => {
    f.mechanism.onPlug = async (target, slot, bytes) => {
      f.active.exit();
      await new Promise((r) => setTimeout(r, 10));
      const node = target.slots.findIndex((s) => s.id === slot) + 1;
      f.standby.nodeBytes.set(node, bytes);
      return {
        vm: target.name,
        slot,
        operation: 'plug',
        requestedBytes: bytes,
        pluggedBytes: bytes,
        durationMs: 1,
        seenBy: 'poll',
        observedAtMs: performance.now(),
      };
    };
    const { record, next, fault } = await move('kvd');
    expect([record.result, next]).toEqual(['succeeded', 'settled']);
    expect(kvdArea(f.pair)?.user).toBe('vm-b');
    expect(fault).toMatchObject({ vm: 'vm-a', signal: 'qemu-exit' });
  });

  it('blocks rather than fail over when the active dies while kvd is being placed and the undo cannot reach it', async () => {
    f.mechanism.onPlug = async () => {
      f.active.exit();
      f.active.onQmp = () => {
        throw new Error('QMP connection closed');
      };
      await new Promise((r) => setTimeout(r, 10));
      throw new Error('plug refused on vm-b');
    };
    const { record, next } = await move('kvd');
    expect([record.result, next]).toEqual(['blocked', 'blocked']);
    expect(f.pair.state).toBe('blocked');
    expect(f.pair.blockedReason).toMatch(
      /^moving kvd failed: plug refused on vm-b; undoing disk-detach failed/,
    );
  });

  it('moves an app without a data disk without any disk phase', async () => {
    f.pair.disks.clear();
    const { record } = await move('kvd', { reason: 'the operator asked' });
    expect(phasesOf(record)).toEqual(['stop', 'unplug', 'plug', 'confirm', 'start', 'healthy', 'commit']);
    expect(f.standby.calls).toEqual(['agent app.start kvd']);
  });
});
