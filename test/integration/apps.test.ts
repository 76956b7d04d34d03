import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KvClient } from '../../src/endpoint/kv-client.js';
import { createLogger } from '../../src/log.js';
import { VirtioMemMechanism } from '../../src/memory/virtio-mem.js';
import { defaultPairConfig, type PairConfig } from '../../src/pair/config.js';
import { Pair } from '../../src/pair/pair.js';
import { queryMemoryDevices } from '../../src/qmp/commands.js';
import type { FailoverRecord } from '../../src/state/history.js';
import type { ResourceTable } from '../../src/table/index.js';
import { MiB } from '../../src/units.js';
import { expectTableMatchesQemu, qemuPidsUnder, until } from '../helpers/audit.js';
import { hostAccel } from '../helpers/vm-fixture.js';

let pair: Pair | undefined;
let stateDir: string | undefined;

afterEach(async () => {
  await pair?.stop();
  pair = undefined;
  if (stateDir !== undefined) {
    expect(qemuPidsUnder(stateDir)).toEqual([]);
    rmSync(stateDir, { recursive: true, force: true });
  }
});

/**
 * The seed's figure 4 scaled to real guests: OS areas are the VMs' 96 MiB base memory (nothing
 * spare), monitor 32 MiB, pool 160 MiB; app A = kvd (hot-standby, 128 MiB, plugged by the
 * monitor), app B = cache (ordinary, 32 MiB, requested by its agent and granted from the pool).
 */
function figure4Config(dir: string): PairConfig {
  const base = defaultPairConfig(dir);
  const kvd = base.apps[0];
  if (kvd === undefined) throw new Error('no kvd in the default config');
  return {
    ...base,
    budgetBytes: (96 + 96 + 32 + 160) * MiB,
    apps: [
      { ...kvd, slotMaxBytes: 256 * MiB, restart: { max: 3, windowMs: 60_000 } },
      {
        name: 'cache',
        slot: 'slot1',
        sizeBytes: 32 * MiB,
        // The guest's memory block is 128 MiB: a virtio-mem device smaller than one is refused by its driver.
        slotMaxBytes: 128 * MiB,
        hotStandby: false,
        argv: ['/apps/kvd', '--port', '7001', '--data', '/tmp/cache'],
        guestPort: 7001,
        endpointPort: 0,
        health: { intervalMs: 1000, timeoutMs: 500, failuresToUnhealthy: 3 },
      },
    ],
  };
}

async function startPair(config: (dir: string) => PairConfig = figure4Config): Promise<Pair> {
  stateDir = mkdtempSync(join(tmpdir(), 'baton-apps-'));
  const accel = await hostAccel();
  const log = createLogger({ level: process.env.BATON_LOG_LEVEL ?? 'warn' });
  pair = await Pair.start(config(stateDir), {
    log,
    accel: accel.accel,
    mechanism: new VirtioMemMechanism({ log }),
  });
  return pair;
}

/** The pid the agent on `vm` reports for `app`, if it runs there. */
async function appPid(p: Pair, vm: string, app: string): Promise<number | undefined> {
  const agent = p.vms.get(vm)?.machine.agent;
  if (agent === undefined) throw new Error(`no ${vm}`);
  const listed = (await agent.request('app.list', {}, 5000)).apps as Array<{ name: string; pid: number }>;
  return listed.find((a) => a.name === app)?.pid;
}

function rows(table: ResourceTable): string[] {
  return table.areas.map((a) => `${a.name} ${a.sizeBytes / MiB} ${a.user} ${a.onFailure}`);
}

async function slotSizes(p: Pair, vm: string): Promise<Record<string, number>> {
  const machine = p.vms.get(vm)?.machine;
  if (machine === undefined) throw new Error(`no ${vm}`);
  return Object.fromEntries(
    (await queryMemoryDevices(machine.qmp)).flatMap((d) =>
      'sizeBytes' in d ? [[d.id, d.sizeBytes / MiB]] : [],
    ),
  );
}

describe('apps on real guests', () => {
  it("passes through the seed's figure 4 states A, B and C as kvd and then cache start", async () => {
    const p = await startPair();
    const states = p.tableHistory.map(rows);
    const stateA = [
      'os:vm-a 96 vm-a vm-a',
      'os:vm-b 96 vm-b vm-b',
      'monitor 32 monitor monitor',
      'pool 160 monitor monitor',
    ];
    const stateB = [
      'os:vm-a 96 vm-a vm-a',
      'os:vm-b 96 vm-b vm-b',
      'monitor 32 monitor monitor',
      'app:kvd 128 vm-a vm-b',
      'pool 32 monitor monitor',
    ];
    const stateC = [
      'os:vm-a 96 vm-a vm-a',
      'os:vm-b 96 vm-b vm-b',
      'monitor 32 monitor monitor',
      'app:kvd 128 vm-a vm-b',
      'app:cache 32 vm-a monitor',
      'pool 0 monitor monitor',
    ];
    const firstIndex = (state: string[]) =>
      states.findIndex((s) => JSON.stringify(s) === JSON.stringify(state));
    expect(firstIndex(stateA)).toBe(0);
    expect(firstIndex(stateB)).toBeGreaterThan(firstIndex(stateA));
    expect(firstIndex(stateC)).toBeGreaterThan(firstIndex(stateB));
    expect(rows(p.table)).toEqual(stateC);
    // The host's view: both slots plugged on vm-a, nothing on vm-b; the guest's: cache's node holds 32 MiB.
    expect(await slotSizes(p, 'vm-a')).toEqual({ 'vmem-slot0': 128, 'vmem-slot1': 32 });
    expect(await slotSizes(p, 'vm-b')).toEqual({ 'vmem-slot0': 0, 'vmem-slot1': 0 });
    const guest = await p.activeVm?.machine.agent.memStatus(5000);
    expect(guest?.numaNodes.find((n) => n.id === 2)?.memTotalBytes).toBe(32 * MiB);
    await expectTableMatchesQemu(p);
  });

  it('restarts kvd in place after a crash with budget left, plugging and unplugging nothing', async () => {
    const p = await startPair();
    const client = await KvClient.connect(p.endpointPort('kvd'));
    expect(await client.request('SET before crash')).toBe('OK');
    client.close();
    const active = p.activeVm;
    if (active === undefined) throw new Error('no active VM');
    const sizesBefore = await slotSizes(p, 'vm-a');
    const eventsBefore = active.machine.qmp.events.length;
    const crashedAtMs = performance.now();
    await active.machine.agent.request('fault.app-crash', { name: 'kvd' }, 5000);
    await until(
      () => (p.supervision.restarts.get('kvd') === 1 ? true : undefined),
      30_000,
      'a restart in place',
    );
    console.log(
      `[integration] app crash → restarted in place in ${Math.round(performance.now() - crashedAtMs)} ms`,
    );
    const reader = await KvClient.connect(p.endpointPort('kvd'), 30_000);
    expect(await reader.request('GET before', 30_000)).toBe('VALUE crash');
    reader.close();
    expect(await slotSizes(p, 'vm-a')).toEqual(sizesBefore);
    const sizeEvents = active.machine.qmp.events
      .slice(eventsBefore)
      .filter((e) => e.event === 'MEMORY_DEVICE_SIZE_CHANGE');
    expect(sizeEvents).toEqual([]);
    expect(p.history).toEqual([]);
    expect(p.endpoints.get('kvd')?.currentTarget?.vm).toBe('vm-a');
  });

  it('moves kvd alone to vm-b after a crash loop while cache keeps its pid and memory', async () => {
    const p = await startPair();
    const writer = await KvClient.connect(p.endpointPort('kvd'));
    for (let i = 0; i < 20; i += 1) expect(await writer.request(`SET k${i} v${i}`)).toBe('OK');
    writer.close();
    const active = p.activeVm;
    if (active === undefined) throw new Error('no active VM');
    const cachePid = async () =>
      (
        (await active.machine.agent.request('app.list', {}, 5000)).apps as Array<{
          name: string;
          pid: number;
        }>
      ).find((a) => a.name === 'cache')?.pid;
    const pidBefore = await cachePid();
    await active.machine.agent.request('fault.app-crash', { name: 'kvd' }, 5000);
    await until(
      () => (p.supervision.restarts.get('kvd') === 1 ? true : undefined),
      30_000,
      'the first restart',
    );
    await active.machine.agent.request('fault.app-crash', { name: 'kvd' }, 5000);
    const record = await until<FailoverRecord>(() => p.history[0], 60_000, 'the app move');
    console.log(`[integration] crash loop → app move: ${record.totalMs} ms ${JSON.stringify(record.phases)}`);
    expect(record).toMatchObject({
      kind: 'app',
      app: 'kvd',
      result: 'succeeded',
      fromVm: 'vm-a',
      toVm: 'vm-b',
    });
    expect(p.roles).toEqual({ active: 'vm-a', standby: 'vm-b' });
    expect(await cachePid()).toBe(pidBefore);
    expect(await slotSizes(p, 'vm-a')).toEqual({ 'vmem-slot0': 0, 'vmem-slot1': 32 });
    expect(await slotSizes(p, 'vm-b')).toEqual({ 'vmem-slot0': 128, 'vmem-slot1': 0 });
    const reader = await KvClient.connect(p.endpointPort('kvd'), 30_000);
    for (let i = 0; i < 20; i += 1) expect(await reader.request(`GET k${i}`, 30_000)).toBe(`VALUE v${i}`);
    reader.close();
    await expectTableMatchesQemu(p);
  });

  it('hands kvd back to vm-a with its keys when vm-b panics after kvd moved there alone', async () => {
    const p = await startPair();
    const writer = await KvClient.connect(p.endpointPort('kvd'));
    for (let i = 0; i < 20; i += 1) expect(await writer.request(`SET k${i} v${i}`)).toBe('OK');
    writer.close();
    await p.moveApp('kvd', { reason: 'operator request', detectedAtMs: performance.now() });
    expect(p.history[0]).toMatchObject({ kind: 'app', result: 'succeeded', toVm: 'vm-b' });
    const vmA = p.vms.get('vm-a');
    const vmB = p.vms.get('vm-b');
    if (vmA === undefined || vmB === undefined) throw new Error('the pair lost a VM');
    const cachePidBefore = await appPid(p, 'vm-a', 'cache');
    await vmB.machine.agent.injectPanic(3000).catch(() => undefined);
    const record = await until<FailoverRecord>(() => p.history[1], 60_000, 'the hand-back');
    console.log(`[integration] standby panic → kvd back on vm-a: ${record.totalMs} ms`);
    expect(record).toMatchObject({ kind: 'whole-vm', result: 'succeeded', fromVm: 'vm-b', toVm: 'vm-a' });
    // Host evidence of the fence: vm-b's old QEMU exited before kvd started on vm-a.
    expect(vmB.machine.isRunning).toBe(false);
    expect(p.roles).toEqual({ active: 'vm-a', standby: 'vm-b' });
    expect(p.vms.get('vm-a')).toBe(vmA);
    expect(await appPid(p, 'vm-a', 'cache')).toBe(cachePidBefore);
    const reader = await KvClient.connect(p.endpointPort('kvd'), 30_000);
    for (let i = 0; i < 20; i += 1) expect(await reader.request(`GET k${i}`, 30_000)).toBe(`VALUE v${i}`);
    reader.close();
    expect(rows(p.table)).toContain('app:kvd 128 vm-a vm-b');
    await until(() => (p.state === 'protected' ? true : undefined), 120_000, 'a fresh standby');
    expect(p.vms.get('vm-b')).not.toBe(vmB);
    await expectTableMatchesQemu(p);
  });

  it('fails the whole VM over when the active guest hangs in the kernel', async () => {
    const p = await startPair((dir) => defaultPairConfig(dir));
    const active = p.activeVm;
    if (active === undefined) throw new Error('no active VM');
    const hungAtMs = performance.now();
    await active.machine.agent.request('fault.hang', {}, 5000);
    const record = await until<FailoverRecord>(() => p.history[0], 60_000, 'the failover');
    console.log(
      `[integration] guest hang → detected after ${Math.round(performance.now() - hungAtMs - record.totalMs)} ms; failover ${record.totalMs} ms`,
    );
    expect(record).toMatchObject({ kind: 'whole-vm', trigger: 'hang on vm-a', result: 'succeeded' });
    const reader = await KvClient.connect(p.endpointPort('kvd'), 30_000);
    expect(await reader.request('PING', 30_000)).toBe('PONG');
    reader.close();
  });
});
