import { describe, expect, it } from 'vitest';
import type { Pair } from '../../../src/pair/pair.js';
import { type ReconcileHost, reconcileMemory } from '../../../src/pair/reconcile-memory.js';
import { appAreaName, type ResourceTable, recordObserved } from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';
import { fakePair, reportMemoryAndApps } from './fake-pair.js';

/** The fake pair with kvd's and cron's areas on vm-a recorded as fully plugged, as after their start. */
function hostOf(pair: Pair): ReconcileHost {
  for (const app of ['kvd', 'cron']) {
    const area = pair.table.areas.find((a) => a.name === appAreaName(app));
    const plugged = {
      area: appAreaName(app),
      pluggedBytes: area?.sizeBytes ?? 0,
      atMs: 1,
      by: 'qmp' as const,
    };
    (pair as { table: ResourceTable }).table = recordObserved(pair.table, plugged).table;
  }
  return pair as unknown as ReconcileHost;
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
    const host = hostOf(pair);
    const before = host.table;
    await reconcileMemory(host);
    expect(standby.calls.filter((c) => c.startsWith('agent'))).toEqual(['agent app.list']);
    expect(mechanism.calls).toEqual(['unplug vm-b slot0']);
    expect(host.table).toBe(before);
  });

  it("sets a recorded area back to the table's size, up or down, with the app left running", async () => {
    const { pair, active, standby, mechanism } = await fakePair();
    expect(pair.table.areas.find((a) => a.name === appAreaName('kvd'))?.user).toBe('vm-a');
    active.nodeBytes.set(1, 96 * MiB); // The table says 128 MiB: an unplug whose commit was lost.
    active.nodeBytes.set(2, 64 * MiB); // The table says 32 MiB: a grant whose commit was lost.
    reportMemoryAndApps(active, ['kvd', 'cron']);
    reportMemoryAndApps(standby, []);
    await reconcileMemory(hostOf(pair));
    expect(mechanism.calls).toEqual(['plug vm-a slot0 128 MiB', 'plug vm-a slot1 32 MiB']);
    expect(active.calls.filter((c) => c.startsWith('agent'))).toEqual([]);
    expect([active.nodeBytes.get(1), active.nodeBytes.get(2)]).toEqual([128 * MiB, 32 * MiB]);
  });

  it('changes nothing when QEMU matches the table', async () => {
    const { pair, active, standby, mechanism } = await fakePair();
    active.nodeBytes.set(1, 128 * MiB);
    active.nodeBytes.set(2, 32 * MiB);
    reportMemoryAndApps(active, ['kvd', 'cron']);
    reportMemoryAndApps(standby, []);
    await reconcileMemory(hostOf(pair));
    expect(mechanism.calls).toEqual([]);
  });
});
