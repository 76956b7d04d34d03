import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, QmpDisconnectedError } from '../../../src/errors.js';
import type { MemoryTarget } from '../../../src/memory/mechanism.js';
import { type GrantHost, grantMemory } from '../../../src/pair/grant.js';
import {
  appAreaName,
  failOver,
  findArea,
  moveApp,
  type ResourceTable,
  returnToPool,
} from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';
import { type FakePair, fakePair } from './fake-pair.js';

let f: FakePair;
const host = () => f.pair as unknown as GrantHost;
const sizeOf = (table: ResourceTable, app: string) => findArea(table, appAreaName(app))?.sizeBytes;

beforeEach(async () => {
  f = await fakePair();
});

describe('grantMemory', () => {
  it('grows kvd from the pool, plugs its slot to the new size and commits, rounding up to blocks', async () => {
    const granted = await grantMemory(host(), { app: 'kvd', extraBytes: 31 * MiB });
    expect(granted).toMatchObject({ grantedBytes: 32 * MiB, sizeBytes: 160 * MiB });
    expect(f.mechanism.calls).toEqual(['plug vm-a slot0 160 MiB']);
    expect(findArea(f.pair.table, appAreaName('kvd'))).toMatchObject({
      sizeBytes: 160 * MiB,
      pluggedBytes: 160 * MiB,
    });
    expect(granted.epoch).toBe(f.pair.table.epoch);
  });

  it('refuses more than the pool has, in MiB, before plugging', async () => {
    await expect(grantMemory(host(), { app: 'kvd', extraBytes: 4000 * MiB })).rejects.toThrow(
      /^Cannot grant memory to kvd: pool has \d+ MiB, kvd asked for 4000 MiB$/,
    );
    expect(f.mechanism.calls).toEqual([]);
  });

  it('refuses more than the slot holds, in MiB (the API path had no such check)', async () => {
    f.pair.commitTable((table) => returnToPool(table, { app: 'cron' }).table);
    f.pair.config.apps = f.pair.config.apps.map((a) =>
      a.name === 'kvd' ? { ...a, slotMaxBytes: 144 * MiB } : a,
    );
    await expect(grantMemory(host(), { app: 'kvd', extraBytes: 32 * MiB })).rejects.toThrow(
      'Cannot grant memory to kvd: kvd asked for 32 MiB more, its slot holds at most 144 MiB',
    );
    expect(f.mechanism.calls).toEqual([]);
  });

  it('refuses a request from a VM that does not own the area, and a request for nothing', async () => {
    await expect(grantMemory(host(), { app: 'kvd', extraBytes: 2 * MiB, vm: 'vm-b' })).rejects.toThrow(
      'Cannot grant memory to kvd: its area belongs to vm-a, not vm-b',
    );
    await expect(grantMemory(host(), { app: 'kvd', extraBytes: 0 })).rejects.toThrow(
      'Cannot grant memory to kvd: it has 128 MiB already, ask for more than that',
    );
  });

  it('keeps a table change committed while the plug ran (no lost update)', async () => {
    const plug = f.mechanism.onPlug;
    f.mechanism.onPlug = async (target: MemoryTarget, slot: string, bytes: number) => {
      f.pair.commitTable((table) => returnToPool(table, { app: 'cron' }).table);
      return plug(target, slot, bytes);
    };
    await grantMemory(host(), { app: 'kvd', extraBytes: 2 * MiB });
    expect(sizeOf(f.pair.table, 'kvd')).toBe(130 * MiB);
    expect(sizeOf(f.pair.table, 'cron')).toBeUndefined();
  });

  it('sets the slot back and refuses when the app moved while its memory was plugged', async () => {
    const plug = f.mechanism.onPlug;
    f.mechanism.onPlug = async (target: MemoryTarget, slot: string, bytes: number) => {
      if (bytes === 130 * MiB)
        f.pair.commitTable((table) => moveApp(table, { app: 'kvd', toVm: 'vm-b' }).table);
      return plug(target, slot, bytes);
    };
    await expect(grantMemory(host(), { app: 'kvd', extraBytes: 2 * MiB })).rejects.toThrow(
      'Cannot grant memory to kvd: it moved to vm-b while its memory was plugged',
    );
    expect(f.mechanism.calls).toEqual(['plug vm-a slot0 130 MiB', 'plug vm-a slot0 128 MiB']);
    expect(sizeOf(f.pair.table, 'kvd')).toBe(128 * MiB);
  });

  it('refuses, with the slot set back, when a whole-VM failover committed while its memory was plugged', async () => {
    const plug = f.mechanism.onPlug;
    let failoverEpoch = 0;
    f.mechanism.onPlug = async (target: MemoryTarget, slot: string, bytes: number) => {
      if (bytes === 130 * MiB)
        failoverEpoch = f.pair.commitTable((table) => failOver(table, { failedVm: 'vm-a' }).table).epoch;
      return plug(target, slot, bytes);
    };
    await expect(grantMemory(host(), { app: 'kvd', extraBytes: 2 * MiB })).rejects.toThrow(
      'Cannot grant memory to kvd: it moved to vm-b while its memory was plugged',
    );
    // The failover's table stands as it committed: kvd on vm-b at its old size, nothing lost or grown.
    expect(f.pair.table.epoch).toBe(failoverEpoch);
    expect(findArea(f.pair.table, appAreaName('kvd'))).toMatchObject({ user: 'vm-b', sizeBytes: 128 * MiB });
    expect(f.mechanism.calls).toEqual(['plug vm-a slot0 130 MiB', 'plug vm-a slot0 128 MiB']);
  });

  it('refuses with CONFLICT when the VM fails while its slot is plugged (a failover fences it), table unchanged', async () => {
    const before = f.pair.table;
    f.mechanism.onPlug = async () => {
      throw new QmpDisconnectedError({ vm: 'vm-a', command: 'qom-set' });
    };
    const refusal = await grantMemory(host(), { app: 'kvd', extraBytes: 2 * MiB }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(ConflictError);
    expect(refusal).toMatchObject({
      code: 'CONFLICT',
      message: 'Cannot grant memory to kvd: vm-a failed while its slot was plugged',
    });
    expect((refusal as Error).cause).toBeInstanceOf(QmpDisconnectedError);
    expect(f.pair.table).toBe(before);
  });

  it('passes on a plug error of a VM that still runs, as it is (no refusal is made up)', async () => {
    const failure = new Error('plug failed');
    f.mechanism.onPlug = async () => {
      throw failure;
    };
    await expect(grantMemory(host(), { app: 'kvd', extraBytes: 2 * MiB })).rejects.toBe(failure);
  });
});
