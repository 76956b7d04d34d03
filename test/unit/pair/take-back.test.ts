import { describe, expect, it } from 'vitest';
import { reconcileMemory, type TakeBackHost } from '../../../src/pair/take-back.js';
import { appAreaName } from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';
import { fakePair, reportMemoryAndApps } from './fake-pair.js';

function hostOf(pair: unknown): TakeBackHost {
  return { pair } as unknown as TakeBackHost;
}

describe('reconcileMemory after a re-attach', () => {
  it('stops an app that runs where the table gives it no area, then unplugs its slot', async () => {
    const { pair, active, standby, mechanism } = await fakePair();
    // kvd and cron are on vm-a as the table says; vm-b holds 32 MiB in cron's slot and runs cron:
    // a start and grant of a daemon killed before it committed.
    active.nodeBytes.set(1, 128 * MiB);
    active.nodeBytes.set(2, 32 * MiB);
    standby.nodeBytes.set(2, 32 * MiB);
    reportMemoryAndApps(active, ['kvd', 'cron']);
    reportMemoryAndApps(standby, ['cron']);
    await reconcileMemory(hostOf(pair));
    expect(standby.calls.filter((c) => c.startsWith('agent'))).toEqual([
      'agent app.list',
      'agent app.stop cron',
    ]);
    expect(mechanism.calls).toEqual(['unplug vm-b slot1']);
    expect(standby.nodeBytes.get(2)).toBe(0);
    expect(active.calls.filter((c) => c.startsWith('agent'))).toEqual([]);
  });

  it('unplugs unrecorded memory whose app does not run there, and changes nothing the table records', async () => {
    const { pair, active, standby, mechanism } = await fakePair();
    active.nodeBytes.set(1, 128 * MiB);
    active.nodeBytes.set(2, 32 * MiB);
    standby.nodeBytes.set(1, 64 * MiB);
    reportMemoryAndApps(active, ['kvd', 'cron']);
    reportMemoryAndApps(standby, []);
    const before = pair.table;
    await reconcileMemory(hostOf(pair));
    expect(standby.calls.filter((c) => c.startsWith('agent'))).toEqual(['agent app.list']);
    expect(mechanism.calls).toEqual(['unplug vm-b slot0']);
    expect(pair.table).toBe(before);
  });

  it('leaves a recorded area whose size QEMU reports otherwise as it is (the table stays the truth)', async () => {
    const { pair, active, standby, mechanism } = await fakePair();
    expect(pair.table.areas.find((a) => a.name === appAreaName('kvd'))?.user).toBe('vm-a');
    active.nodeBytes.set(1, 96 * MiB); // The table says 128 MiB.
    active.nodeBytes.set(2, 32 * MiB);
    reportMemoryAndApps(active, ['kvd', 'cron']);
    reportMemoryAndApps(standby, []);
    await reconcileMemory(hostOf(pair));
    expect(mechanism.calls).toEqual([]);
  });
});
