// A pair made of stand-ins: two scripted VMs (QMP, agent, process), a scripted memory mechanism, a real table.
import { pino } from 'pino';
import { createSilentLogger, type Logger } from '../../../src/log.js';
import {
  deviceIdOf,
  type MemoryMechanism,
  type MemoryTarget,
  type PlugResult,
  type SlotObservation,
} from '../../../src/memory/mechanism.js';
import type { AppConfig, PairConfig } from '../../../src/pair/config.js';
import type { DataDisk } from '../../../src/pair/disk.js';
import type { FailoverTrigger, Pair, PairState } from '../../../src/pair/pair.js';
import { createSupervision } from '../../../src/pair/supervise.js';
import type { FailoverRecord } from '../../../src/state/history.js';
import { createTable, type ResourceTable, startApp } from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';
import { startPongServer } from './fake-servers.js';
import { type FakeVm, fakeVm } from './fake-vm.js';

export { startLineServer, startPongServer } from './fake-servers.js';
export { type FakeVm, fakeVm, fakeVmFailing, type QmpHandler, reportMemoryAndApps } from './fake-vm.js';

/** A logger that keeps every line it writes (level, message and fields), for tests that assert what was logged. */
export function recordingLogger(): { log: Logger; lines: Array<Record<string, unknown> & { msg: string }> } {
  const lines: Array<Record<string, unknown> & { msg: string }> = [];
  const log = pino({ level: 'trace' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

/** A mechanism that plugs and unplugs at once (the guest's nodes follow), unless a test overrides `onUnplug`. */
export function fakeMechanism(vms: FakeVm[]) {
  const calls: string[] = [];
  const nodesOf = (target: MemoryTarget): Map<number, number> =>
    vms.find((v) => v.vm.machine.spec.name === target.name)?.nodeBytes ?? new Map();
  const result = (
    target: MemoryTarget,
    slot: string,
    bytes: number,
    operation: 'plug' | 'unplug',
  ): PlugResult => {
    const node = target.slots.findIndex((s) => s.id === slot) + 1;
    nodesOf(target).set(node, bytes);
    return {
      vm: target.name,
      slot,
      operation,
      requestedBytes: bytes,
      pluggedBytes: bytes,
      durationMs: 1,
      seenBy: 'poll',
      observedAtMs: performance.now(),
    };
  };
  const mechanism = {
    calls,
    onUnplug: async (target: MemoryTarget, slot: string) => result(target, slot, 0, 'unplug'),
    onPlug: async (target: MemoryTarget, slot: string, bytes: number) => result(target, slot, bytes, 'plug'),
    plug: (target: MemoryTarget, slot: string, bytes: number) => {
      calls.push(`plug ${target.name} ${slot} ${bytes / MiB} MiB`);
      return mechanism.onPlug(target, slot, bytes);
    },
    unplug: (target: MemoryTarget, slot: string) => {
      calls.push(`unplug ${target.name} ${slot}`);
      return mechanism.onUnplug(target, slot);
    },
    /** What the fake VM's nodes hold, slot by slot, as QEMU would report it. */
    observe: async (target: MemoryTarget, slot?: string): Promise<SlotObservation[]> =>
      target.slots
        .map((s, index) => ({ s, node: index + 1 }))
        .filter(({ s }) => slot === undefined || s.id === slot)
        .map(({ s, node }) => ({
          vm: target.name,
          slot: s.id,
          deviceId: deviceIdOf(s.id),
          node,
          pluggedBytes: nodesOf(target).get(node) ?? 0,
          requestedBytes: nodesOf(target).get(node) ?? 0,
          maxSizeBytes: s.maxSizeBytes,
          blockSizeBytes: s.blockSizeBytes,
          observedAtMs: performance.now(),
        })),
  };
  return mechanism;
}

const kvd: AppConfig = {
  name: 'kvd',
  slot: 'slot0',
  sizeBytes: 128 * MiB,
  slotMaxBytes: 512 * MiB,
  hotStandby: true,
  argv: ['/apps/kvd'],
  guestPort: 7000,
  endpointPort: 0,
  diskBytes: 64 * MiB,
};
const cron: AppConfig = { ...kvd, name: 'cron', slot: 'slot1', sizeBytes: 32 * MiB, hotStandby: false };
delete (cron as { diskBytes?: number }).diskBytes;

/** The pair's fields a single-app move reads and writes, with kvd (hot-standby, disk) and cron (ordinary) on vm-a. */
export interface FakePair {
  pair: Pair;
  active: FakeVm;
  standby: FakeVm;
  mechanism: ReturnType<typeof fakeMechanism>;
  endpointCalls: string[];
  faults: FailoverTrigger[];
}

/** The table of a pair with no app yet: two 96 MiB VMs, vm-a active, a 32 MiB monitor and 512 MiB in the pool. */
export function emptyPairTable(): ResourceTable {
  return createTable({
    budgetBytes: 96 * MiB * 2 + 32 * MiB + 512 * MiB,
    blockBytes: 2 * MiB,
    roles: { active: 'vm-a', standby: 'vm-b' },
    osAreas: [
      { vm: 'vm-a', sizeBytes: 96 * MiB },
      { vm: 'vm-b', sizeBytes: 96 * MiB },
    ],
    monitorBytes: 32 * MiB,
    osMinBytes: 96 * MiB,
  }).table;
}

/** With `placedApps` (default both), the apps whose areas the table gives vm-a at the start. */
export async function fakePair(
  options: { standbyOccupied?: Record<string, string[]>; placedApps?: readonly string[] } = {},
): Promise<FakePair> {
  const active = fakeVm('vm-a', { hostPort: await startPongServer() });
  const standby = fakeVm('vm-b', {
    hostPort: await startPongServer(),
    ...(options.standbyOccupied === undefined ? {} : { occupied: options.standbyOccupied }),
  });
  const mechanism = fakeMechanism([active, standby]);
  const roles = { active: 'vm-a', standby: 'vm-b' };
  let table = emptyPairTable();
  const placed = options.placedApps ?? ['kvd', 'cron'];
  for (const app of [kvd, cron].filter((a) => placed.includes(a.name)))
    table = startApp(table, {
      app: app.name,
      vm: 'vm-a',
      sizeBytes: app.sizeBytes,
      hotStandby: app.hotStandby,
      slot: app.slot,
    }).table;
  const endpointCalls: string[] = [];
  const endpoint = {
    hold: () => endpointCalls.push('hold'),
    route: (target: { vm: string; port: number }) => endpointCalls.push(`route ${target.vm}:${target.port}`),
  };
  const disk: DataDisk = { app: 'kvd', path: '/tmp/kvd.img', serial: 'baton-kvd' };
  const faults: FailoverTrigger[] = [];
  const config: Partial<PairConfig> = { apps: [kvd, cron], healthTimeoutMs: 2000 };
  const pair = {
    config,
    log: createSilentLogger(),
    mechanism: mechanism as unknown as MemoryMechanism,
    vms: new Map([
      ['vm-a', active.vm],
      ['vm-b', standby.vm],
    ]),
    endpoints: new Map([['kvd', endpoint]]),
    disks: new Map([['kvd', disk]]),
    history: [] as FailoverRecord[],
    roles,
    table,
    state: 'protected' as PairState,
    blockedReason: undefined,
    inFlight: undefined,
    inFlightId: undefined,
    detectors: new Map([['vm-a', active.detector]]),
    isBusy: false,
    supervision: createSupervision(),
    commitTable(change: (table: ResourceTable) => ResourceTable) {
      this.table = change(this.table);
      return this.table;
    },
    commitFailover(_kind: string, _from: string, change: (table: ResourceTable) => ResourceTable) {
      this.table = change(this.table);
    },
    keepRecord(record: FailoverRecord) {
      (this.history as FailoverRecord[]).push(record);
    },
    block(reason: string) {
      this.state = 'blocked';
      this.blockedReason = reason as never;
    },
    onFault: (trigger: FailoverTrigger) => {
      faults.push(trigger);
      return Promise.resolve(undefined);
    },
  };
  return { pair: pair as unknown as Pair, active, standby, mechanism, endpointCalls, faults };
}
