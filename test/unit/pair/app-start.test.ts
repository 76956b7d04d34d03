import { describe, expect, it } from 'vitest';
import { AgentError, QmpCommandError } from '../../../src/errors.js';
import { type AppStartHost, restartAppOn, startAppOn } from '../../../src/pair/app-start.js';
import type { AppConfig, PairConfig } from '../../../src/pair/config.js';
import { appAreaName, findArea, grantFromPool } from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';
import { type FakePair, fakeMechanism, fakePair, fakeVmFailing } from './fake-pair.js';

/** The start host of a fake pair: its config (or `apps`), mechanism, disks, and its one table writer. */
function hostOf(fake: FakePair, apps?: readonly AppConfig[]): AppStartHost {
  const { pair } = fake;
  const config = { ...pair.config, ...(apps === undefined ? {} : { apps }) } as PairConfig;
  return {
    config,
    mechanism: pair.mechanism,
    disks: pair.disks,
    get table() {
      return pair.table;
    },
    commitTable: (change) => pair.commitTable(change),
  };
}

/** cron answers on the same loopback PONG server as kvd (its health check passes). */
function forwardCron(fake: FakePair): void {
  for (const vm of [fake.active, fake.standby]) vm.vm.forwards.set('cron', vm.vm.forwards.get('kvd') ?? 0);
}

const appOf = (fake: FakePair, name: string) =>
  fake.pair.config.apps?.find((a) => a.name === name) as AppConfig;

describe('startAppOn', () => {
  it('attaches a hot-standby app its disk, plugs its slot, starts it, and commits its area as QEMU has it', async () => {
    const fake = await fakePair({ placedApps: ['cron'] });
    const hostPort = await startAppOn(hostOf(fake), 'kvd', fake.active.vm);
    expect(fake.active.calls.filter((c) => !c.startsWith('qmp query'))).toEqual([
      'qmp blockdev-add node-name=disk-kvd',
      'qmp device_add id=blk-kvd bus=rp-spare0',
      'agent app.start kvd with disk',
    ]);
    expect(fake.mechanism.calls).toEqual(['plug vm-a slot0 128 MiB']);
    expect(findArea(fake.pair.table, appAreaName('kvd'))).toMatchObject({
      user: 'vm-a',
      sizeBytes: 128 * MiB,
      pluggedBytes: 128 * MiB,
    });
    expect(hostPort).toBe(fake.active.vm.forwards.get('kvd'));
  });

  it('starts an ordinary app on an empty slot with no area: its agent asks for the memory later', async () => {
    const fake = await fakePair({ placedApps: ['kvd'] });
    forwardCron(fake);
    const before = fake.pair.table;
    await startAppOn(hostOf(fake), 'cron', fake.active.vm);
    expect(fake.active.calls).toContain('agent app.start cron');
    expect(fake.mechanism.calls).toEqual([]);
    expect(fake.pair.table).toBe(before);
  });

  it('keeps a grant committed while the app started (the area is carved from the table current at commit)', async () => {
    const fake = await fakePair({ placedApps: ['cron'] });
    const plug = fake.mechanism.onPlug;
    fake.mechanism.onPlug = async (target, slot, bytes) => {
      fake.pair.commitTable((table) => grantFromPool(table, { app: 'cron', bytes: 16 * MiB }).table);
      return plug(target, slot, bytes);
    };
    await startAppOn(hostOf(fake), 'kvd', fake.active.vm);
    expect(findArea(fake.pair.table, appAreaName('cron'))?.sizeBytes).toBe(48 * MiB);
    expect(findArea(fake.pair.table, appAreaName('kvd'))?.sizeBytes).toBe(128 * MiB);
  });

  it('attaches the disk on the root port of its place among the apps that have a disk', async () => {
    const fake = await fakePair({ placedApps: ['cron'] });
    const kvd = appOf(fake, 'kvd');
    const other = { ...kvd, name: 'other', slot: 'slot1' };
    await startAppOn(hostOf(fake, [other, kvd]), 'kvd', fake.active.vm);
    expect(fake.active.calls).toContain('qmp device_add id=blk-kvd bus=rp-spare1');
  });

  it('commits the plugged area when the agent refuses the app for its configuration, and passes the refusal on', async () => {
    const fake = await fakePair({ placedApps: ['cron'] });
    const refusal = new AgentError({
      vm: 'vm-a',
      agentCode: 'spawn-failed',
      message: '/apps/kvd: not found',
    });
    fake.active.onAppStart = async () => {
      throw refusal;
    };
    await expect(startAppOn(hostOf(fake), 'kvd', fake.active.vm)).rejects.toBe(refusal);
    expect(findArea(fake.pair.table, appAreaName('kvd'))).toMatchObject({
      user: 'vm-a',
      pluggedBytes: 128 * MiB,
    });
  });

  it('commits nothing when the start fails for another reason', async () => {
    const fake = await fakePair({ placedApps: ['cron'] });
    const lost = new AgentError({ vm: 'vm-a', agentCode: 'disconnected', message: 'agent gone' });
    fake.active.onAppStart = async () => {
      throw lost;
    };
    const before = fake.pair.table;
    await expect(startAppOn(hostOf(fake), 'kvd', fake.active.vm)).rejects.toBe(lost);
    expect(fake.pair.table).toBe(before);
  });

  it('commits nothing for an ordinary app the agent refuses (it has no memory yet)', async () => {
    const fake = await fakePair({ placedApps: ['kvd'] });
    fake.active.onAppStart = async () => {
      throw new AgentError({ vm: 'vm-a', agentCode: 'spawn-failed', message: 'no such file' });
    };
    const before = fake.pair.table;
    await expect(startAppOn(hostOf(fake), 'cron', fake.active.vm)).rejects.toMatchObject({
      code: 'AGENT_ERROR',
      agentCode: 'spawn-failed',
    });
    expect(fake.pair.table).toBe(before);
  });

  it('refuses an unknown app or a missing VM before touching anything', async () => {
    const fake = await fakePair({ placedApps: [] });
    await expect(startAppOn(hostOf(fake), 'nope', fake.active.vm)).rejects.toThrow('unknown app nope');
    await expect(startAppOn(hostOf(fake), 'kvd', undefined)).rejects.toThrow('or no active VM');
    expect(fake.active.calls).toEqual([]);
    expect(fake.mechanism.calls).toEqual([]);
  });
});

describe('restartAppOn', () => {
  it('plugs the size the table gives the area (grown from the pool), not the configured one, and commits nothing', async () => {
    const fake = await fakePair();
    fake.pair.commitTable((table) => grantFromPool(table, { app: 'kvd', bytes: 32 * MiB }).table);
    const before = fake.pair.table;
    const hostPort = await restartAppOn(hostOf(fake), 'kvd', fake.active.vm);
    expect(fake.mechanism.calls).toEqual(['plug vm-a slot0 160 MiB']);
    expect(fake.active.calls).toContain('agent app.start kvd with disk');
    expect(fake.pair.table).toBe(before);
    expect(hostPort).toBe(fake.active.vm.forwards.get('kvd'));
  });

  it('counts a disk a rolled-back move left attached as attached', async () => {
    const fake = await fakePair();
    const duplicate = (command: string) =>
      new QmpCommandError({ command, errorClass: 'GenericError', desc: 'Duplicate nodes', vm: 'vm-a' });
    const attached = fakeVmFailing(
      'vm-a',
      { 'blockdev-add': duplicate('blockdev-add'), device_add: duplicate('device_add') },
      ['disk-kvd'],
      { 'rp-spare0': ['blk-kvd'] },
    );
    attached.vm.forwards.set('kvd', fake.active.vm.forwards.get('kvd') ?? 0);
    const mechanism = fakeMechanism([attached]);
    await restartAppOn({ ...hostOf(fake), mechanism: mechanism as never }, 'kvd', attached.vm);
    expect(attached.calls.filter((c) => !c.startsWith('qmp query'))).toEqual([
      'qmp blockdev-add node-name=disk-kvd',
      'qmp device_add id=blk-kvd bus=rp-spare0',
      'agent app.start kvd with disk',
    ]);
    expect(mechanism.calls).toEqual(['plug vm-a slot0 128 MiB']);
  });

  it('resolves undefined for an app with no area or an unknown app, and does nothing', async () => {
    const fake = await fakePair({ placedApps: ['cron'] });
    expect(await restartAppOn(hostOf(fake), 'kvd', fake.active.vm)).toBeUndefined();
    expect(await restartAppOn(hostOf(fake), 'nope', fake.active.vm)).toBeUndefined();
    expect(fake.active.calls).toEqual([]);
    expect(fake.mechanism.calls).toEqual([]);
  });
});
