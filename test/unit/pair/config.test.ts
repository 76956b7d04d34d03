import { describe, expect, it } from 'vitest';
import { defaultPairConfig, diskPathOf } from '../../../src/pair/config.js';
import { assertInvariants, createTable, poolBytes, startApp } from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';

describe('defaultPairConfig', () => {
  it('keeps its state in the directory given', () => {
    expect(defaultPairConfig('/var/lib/baton-test').stateDir).toBe('/var/lib/baton-test');
  });

  it("fits its apps: both start on the active's slots with 352 MiB left in the pool", () => {
    const config = defaultPairConfig('/tmp/s');
    let table = createTable({
      budgetBytes: config.budgetBytes,
      blockBytes: config.blockBytes,
      roles: { active: config.vmNames[0], standby: config.vmNames[1] },
      osAreas: config.vmNames.map((vm) => ({ vm, sizeBytes: config.baseBytes })),
      monitorBytes: config.monitorBytes,
      osMinBytes: config.baseBytes,
    }).table;
    for (const app of config.apps) {
      expect(app.sizeBytes % config.blockBytes).toBe(0);
      expect(app.sizeBytes).toBeLessThanOrEqual(app.slotMaxBytes);
      table = startApp(table, {
        app: app.name,
        vm: config.vmNames[0],
        sizeBytes: app.sizeBytes,
        hotStandby: app.hotStandby,
        slot: app.slot,
      }).table;
    }
    expect(() => assertInvariants(table)).not.toThrow();
    expect(poolBytes(table)).toBe(352 * MiB);
    expect(new Set(config.apps.map((a) => a.slot)).size).toBe(config.apps.length);
    expect(new Set(config.apps.map((a) => a.guestPort)).size).toBe(config.apps.length);
  });

  it('gives each call its own copy', () => {
    const first = defaultPairConfig('/tmp/s');
    (first.apps[0] as { sizeBytes: number }).sizeBytes = 1;
    expect(defaultPairConfig('/tmp/s').apps[0]?.sizeBytes).toBe(128 * MiB);
  });
});

describe('diskPathOf', () => {
  it("puts an app's data disk in the state directory's disks folder", () => {
    expect(diskPathOf(defaultPairConfig('/var/lib/baton/'), 'kvd')).toBe('/var/lib/baton/disks/kvd.img');
    expect(diskPathOf(defaultPairConfig('state'), 'cache')).toBe('state/disks/cache.img');
  });
});
