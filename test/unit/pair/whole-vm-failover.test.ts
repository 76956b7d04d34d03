import { beforeEach, describe, expect, it } from 'vitest';
import { failOverWholeVm, planAppsOf, type WholeVmHost } from '../../../src/pair/whole-vm-failover.js';
import { appAreaName, findArea } from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';
import { type FakePair, type FakeVm, fakePair } from './fake-pair.js';

let f: FakePair;
const host = () => f.pair as unknown as WholeVmHost;
const trigger = () => ({ vm: 'vm-a', signal: 'GUEST_PANICKED' as const, detectedAtMs: performance.now() });

/** QMP `quit` makes the fake QEMU exit, as the real one does. */
function exitsOnQuit(vm: FakeVm): void {
  const answer = vm.onQmp;
  vm.onQmp = (command, args) => {
    if (command === 'quit') setTimeout(() => vm.exit(), 5);
    return answer(command, args);
  };
}

beforeEach(async () => {
  f = await fakePair();
  Object.assign(f.pair, { detectors: new Map() });
  exitsOnQuit(f.active);
});

describe('failOverWholeVm', () => {
  it('fences vm-a by its exit, places kvd with its disk on vm-b, commits: kvd on vm-b, cron back in the pool', async () => {
    const ids: string[] = [];
    const { record, outcome } = await failOverWholeVm(host(), trigger(), (id) => ids.push(id));
    expect(outcome).toBe('succeeded');
    expect(ids).toEqual([record.id]);
    expect(record.phases.map((p) => p.name)).toEqual([
      'detect',
      'fence',
      'disk',
      'plug',
      'confirm',
      'start',
      'healthy',
      'commit',
    ]);
    expect(f.active.calls).toEqual(['qmp stop', 'qmp quit']);
    expect(f.standby.calls.filter((c) => !c.startsWith('qmp query-pci'))).toEqual([
      'qmp blockdev-add node-name=disk-kvd',
      'qmp device_add id=blk-kvd bus=rp-spare1',
      'agent app.start kvd with disk',
    ]);
    expect(findArea(f.pair.table, appAreaName('kvd'))).toMatchObject({
      user: 'vm-b',
      pluggedBytes: 128 * MiB,
    });
    expect(findArea(f.pair.table, appAreaName('cron'))).toBeUndefined();
    expect(f.pair.history).toEqual([record]);
  });

  it('unplugs the slot and detaches the disk on vm-b again when the start fails after the plug, keeping the error', async () => {
    Object.assign(f.standby.vm.machine.agent, {
      appStart: async () => {
        f.standby.calls.push('agent app.start kvd (refused)');
        throw new Error('agent app.start failed on vm-b: /apps/kvd: no such file');
      },
    });
    const table = f.pair.table;
    const { record, outcome } = await failOverWholeVm(host(), trigger(), () => undefined);
    expect(outcome).toBe('blocked');
    expect(record).toMatchObject({
      result: 'blocked',
      error: 'agent app.start failed on vm-b: /apps/kvd: no such file',
    });
    expect(f.mechanism.calls).toEqual(['plug vm-b slot0 128 MiB', 'unplug vm-b slot0']);
    expect(f.standby.calls.filter((c) => !c.startsWith('qmp query-pci'))).toEqual([
      'qmp blockdev-add node-name=disk-kvd',
      'qmp device_add id=blk-kvd bus=rp-spare1',
      'agent app.start kvd (refused)',
      'qmp device_del id=blk-kvd',
      'qmp blockdev-del node-name=disk-kvd',
    ]);
    expect(f.pair.state).toBe('blocked');
    expect(f.pair.blockedReason).toBe(
      'failover failed: agent app.start failed on vm-b: /apps/kvd: no such file',
    );
    // Nothing was committed: the table still gives kvd to vm-a, and vm-b holds nothing of it.
    expect(f.pair.table).toBe(table);
  });

  it('lists the apps the planner knows, with or without a disk, in config order', () => {
    expect(planAppsOf(f.pair.config.apps ?? [], f.pair.disks)).toEqual([
      { name: 'kvd', hasDisk: true },
      { name: 'cron', hasDisk: false },
    ]);
  });
});
