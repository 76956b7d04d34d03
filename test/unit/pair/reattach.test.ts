import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deviceIdOf } from '../../../src/memory/mechanism.js';
import { describeDrift, memoryDrift, reattachVms, runningApps } from '../../../src/pair/reattach.js';
import { processStartTime, type VmIdentity } from '../../../src/recovery/identity.js';
import { appAreaName, type ResourceTable, recordObserved } from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';
import type { MachineSpec } from '../../../src/vm/spec.js';
import { fakePair, fakeVm, recordingLogger, reportMemoryAndApps } from './fake-pair.js';

const apps = [
  { name: 'kvd', slot: 'slot0' },
  { name: 'cron', slot: 'slot1' },
];

/** The fake pair's table with each app's area observed at `bytes` (as a start commits it). */
function observed(table: ResourceTable, bytes: Record<string, number>): ResourceTable {
  let next = table;
  for (const [app, pluggedBytes] of Object.entries(bytes))
    next = recordObserved(next, { area: appAreaName(app), pluggedBytes, atMs: 1, by: 'qmp' }).table;
  return next;
}

/** The drift of kvd's slot on vm-a when the table records 128 MiB and QEMU reports `qemuBytes`. */
const kvdDrift = (qemuBytes: number) => ({
  vm: 'vm-a',
  slot: 'slot0',
  app: 'kvd',
  area: appAreaName('kvd'),
  tableBytes: 128 * MiB,
  qemuBytes,
});

describe('describeDrift', () => {
  it('names the slot, both sizes and the area when there is one', () => {
    const drift = { vm: 'vm-a', slot: 'slot0', app: 'kvd', tableBytes: 134217728, qemuBytes: 100663296 };
    expect(describeDrift({ ...drift, area: 'app:kvd' })).toBe(
      'vm-a slot slot0: table says 134217728 bytes plugged (app:kvd), QEMU reports 100663296',
    );
    expect(describeDrift({ ...drift, area: undefined, tableBytes: 0 })).toBe(
      'vm-a slot slot0: table says 0 bytes plugged, QEMU reports 100663296',
    );
  });
});

describe('memoryDrift', () => {
  it.each([
    ['finds none when QEMU reports every area at the size the table records', 128 * MiB, []],
    [
      'reports a slot whose size QEMU reports otherwise, with the app and its area',
      96 * MiB,
      [kvdDrift(96 * MiB)],
    ],
  ])('%s', async (_name, kvdBytes, expected) => {
    const { pair, active } = await fakePair();
    active.nodeBytes.set(1, kvdBytes);
    active.nodeBytes.set(2, 32 * MiB);
    reportMemoryAndApps(active, []);
    const table = observed(pair.table, { kvd: 128 * MiB, cron: 32 * MiB });
    expect(await memoryDrift(table, active.vm, apps)).toEqual(expected);
    expect(active.calls).toEqual(['qmp query-memory-devices']);
  });

  it('reports memory plugged in a slot of a VM the table gives nothing there', async () => {
    const { pair, standby } = await fakePair();
    standby.nodeBytes.set(2, 32 * MiB);
    reportMemoryAndApps(standby, []);
    expect(await memoryDrift(pair.table, standby.vm, apps)).toEqual([
      { vm: 'vm-b', slot: 'slot1', app: 'cron', area: undefined, tableBytes: 0, qemuBytes: 32 * MiB },
    ]);
  });

  it('counts a slot QEMU does not report, or reports as another kind of device, as empty', async () => {
    const { pair, active } = await fakePair();
    active.onQmp = () => [{ type: 'pc-dimm', data: { id: deviceIdOf('slot0'), size: 128 * MiB } }];
    const table = observed(pair.table, { kvd: 128 * MiB });
    expect(await memoryDrift(table, active.vm, apps)).toEqual([kvdDrift(0)]);
  });

  it('compares a slot no app is configured on with nothing', async () => {
    const { pair, active } = await fakePair();
    active.nodeBytes.set(2, 32 * MiB);
    reportMemoryAndApps(active, []);
    expect(await memoryDrift(pair.table, active.vm, [{ name: 'kvd', slot: 'slot0' }])).toEqual([
      { vm: 'vm-a', slot: 'slot1', app: undefined, area: undefined, tableBytes: 0, qemuBytes: 32 * MiB },
    ]);
  });
});

describe('runningApps', () => {
  it('lists the apps the agent runs by name and guest pid, leaving out those that exited', async () => {
    const fake = fakeVm('vm-a');
    Object.assign(fake.vm.machine.agent, {
      request: async (type: string, _args: unknown, timeoutMs: number) => {
        fake.calls.push(`agent ${type} ${timeoutMs} ms`);
        return {
          apps: [
            { name: 'kvd', pid: 201, running: true },
            { name: 'cron', pid: 202, running: false },
          ],
        };
      },
    });
    expect(await runningApps(fake.vm)).toEqual(new Map([['kvd', 201]]));
    expect(fake.calls).toEqual(['agent app.list 3000 ms']);
  });

  it('refuses a reply that is not an app list (the guest is hostile input)', async () => {
    const fake = fakeVm('vm-a');
    const tooMany = Array.from({ length: 65 }, (_, i) => ({ name: `a${i}`, pid: i, running: true }));
    for (const reply of [{ apps: [{ name: 'kvd', pid: '201', running: true }] }, { apps: tooMany }, {}]) {
      Object.assign(fake.vm.machine.agent, { request: async () => reply });
      await expect(runningApps(fake.vm)).rejects.toMatchObject({ name: 'ZodError' });
    }
  });
});

describe('reattachVms without a live QEMU', () => {
  const runParent = mkdtempSync(join(tmpdir(), 'baton-reattach-'));
  afterAll(() => rmSync(runParent, { recursive: true, force: true }));

  function identity(name: string, fields: Partial<VmIdentity>): VmIdentity {
    return {
      name,
      role: 'standby',
      pid: 0x3ffffff,
      startTime: '1',
      runDir: join(runParent, name),
      forwards: {},
      spec: { name } as MachineSpec,
      ...fields,
    };
  }

  it('counts a VM whose pid is gone as exited and removes its run directory under the run parent', async () => {
    const dir = join(runParent, 'vm-b');
    mkdirSync(dir);
    const { log, lines } = recordingLogger();
    const result = await reattachVms([identity('vm-b', {})], log, runParent);
    expect(result.vms).toEqual([]);
    expect(result.gone.get('vm-b')).toBe(`pid ${0x3ffffff} does not exist`);
    expect(result.faults.get('vm-b')).toBe('qemu-exit');
    expect(existsSync(dir)).toBe(false);
    expect(lines.some((l) => l.msg === 'removed the run directory of a QEMU that is gone')).toBe(true);
  });

  it('never removes a run directory that is not a direct child of the run parent', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'baton-reattach-outside-'));
    const nested = join(runParent, 'deeper', 'vm-a');
    const unasked = join(runParent, 'vm-c');
    mkdirSync(nested, { recursive: true });
    mkdirSync(unasked);
    try {
      await reattachVms(
        [identity('vm-a', { runDir: outside }), identity('vm-b', { runDir: nested })],
        recordingLogger().log,
        runParent,
      );
      // With no run parent given, no run directory is removed.
      await reattachVms([identity('vm-c', { runDir: unasked })], recordingLogger().log);
      expect(existsSync(outside)).toBe(true);
      expect(existsSync(nested)).toBe(true);
      expect(existsSync(unasked)).toBe(true);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('never signals a live process that is not the recorded QEMU (pid reused, or another command line)', async () => {
    const startTime = processStartTime(process.pid) ?? '';
    const result = await reattachVms(
      [
        identity('vm-a', { pid: process.pid, startTime: `${startTime}9` }),
        identity('vm-b', { pid: process.pid, startTime, runDir: join(runParent, 'not-on-my-cmdline') }),
      ],
      recordingLogger().log,
      runParent,
    );
    expect(result.gone.get('vm-a')).toContain('the pid was reused');
    expect(result.gone.get('vm-b')).toContain('does not name');
    expect([...result.faults.values()]).toEqual(['qemu-exit', 'qemu-exit']);
    expect(result.vms).toEqual([]);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });
});
