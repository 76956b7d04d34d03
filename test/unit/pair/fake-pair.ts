// A pair made of stand-ins: two scripted VMs (QMP, agent, process), a scripted memory mechanism, a real table.
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:net';
import { pino } from 'pino';
import { afterEach } from 'vitest';
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
import type { PairVm } from '../../../src/pair/vm-factory.js';
import type { FailoverRecord } from '../../../src/state/history.js';
import { createTable, type ResourceTable, startApp } from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A loopback TCP server answering PING with PONG, as a healthy app behind a VM's host forward. */
export function startPongServer(): Promise<number> {
  return startLineServer(() => 'PONG\n');
}

/**
 * A loopback TCP server that writes `respond(data)` for each chunk it gets and ends the connection
 * (pieces: each written on a later tick; undefined: it stays silent and keeps the connection open);
 * resolves with its port.
 */
export async function startLineServer(
  respond: (data: string) => string | readonly string[] | undefined,
): Promise<number> {
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    socket.on('data', async (data: string) => {
      const answer = respond(data);
      if (answer === undefined) return;
      for (const piece of typeof answer === 'string' ? [answer] : answer) {
        socket.write(piece);
        await new Promise((resolve) => setImmediate(resolve));
      }
      socket.end();
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/** A logger that keeps every line it writes (level, message and fields), for tests that assert what was logged. */
export function recordingLogger(): { log: Logger; lines: Array<Record<string, unknown> & { msg: string }> } {
  const lines: Array<Record<string, unknown> & { msg: string }> = [];
  const log = pino({ level: 'trace' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

export type QmpHandler = (command: string, args: Record<string, unknown> | undefined) => unknown;

/** One scripted VM. `calls` lists every QMP command and agent request it got, in order. */
export interface FakeVm {
  vm: PairVm;
  calls: string[];
  qmp: EventEmitter;
  /** Replaces the agent's app.stop (default: the app stops at once). */
  onAppStop: (name: string) => Promise<unknown>;
  /** Replaces the agent's app.start (default: the app starts at once with guest pid 77). */
  onAppStart: (name: string) => Promise<{ name: string; pid: number }>;
  /** Decides how the answer to a guest's mem.request ends (default: delivered). */
  onAnswerMemRequest: (app: string) => Promise<void>;
  /** Replaces the QMP handler for commands not answered by default. */
  onQmp: QmpHandler;
  /** Makes the QEMU process exit (resolves `exited`). */
  exit(): void;
  /** Sends a QMP event to whoever listens. */
  emit(event: string, data?: Record<string, unknown>): void;
  /** What the guest holds online per NUMA node, as mem.status reports it. */
  nodeBytes: Map<number, number>;
  /** Stands in for the pair's hang detector of this VM: emit 'hang' to declare a hang. */
  detector: EventEmitter;
}

/**
 * A VM with `slots` (slot0 on node 1, slot1 on node 2), two spare root ports, and whatever its guest
 * holds per node after plugs. query-pci reports `occupied` root ports; device_del answers with
 * DEVICE_DELETED at once.
 */
export function fakeVm(
  name: string,
  options: { hostPort?: number; occupied?: Record<string, string[]> } = {},
): FakeVm {
  const calls: string[] = [];
  const qmp = Object.assign(new EventEmitter(), {
    vm: name,
    execute: async (command: string, args?: Record<string, unknown>) => {
      calls.push(`qmp ${command}${describeArgs(args)}`);
      return fake.onQmp(command, args);
    },
  });
  const nodeBytes = new Map<number, number>();
  let exit: () => void = () => undefined;
  let isRunning = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    exit = () => {
      isRunning = false;
      resolve({ code: 0, signal: null });
    };
  });
  const slots = [
    { id: 'slot0', maxSizeBytes: 512 * MiB, requestedSizeBytes: 0, blockSizeBytes: 2 * MiB },
    { id: 'slot1', maxSizeBytes: 512 * MiB, requestedSizeBytes: 0, blockSizeBytes: 2 * MiB },
  ];
  const agent = Object.assign(new EventEmitter(), {
    /** Answers a guest's mem.request (recorded with the answer). */
    answerMemRequest: async (appName: string, answer: { granted: boolean; reason?: string }) => {
      calls.push(`agent mem.request ${appName} ${answer.granted ? 'granted' : `refused: ${answer.reason}`}`);
      await fake.onAnswerMemRequest(appName);
    },
    appStop: async (appName: string) => {
      calls.push(`agent app.stop ${appName}`);
      return fake.onAppStop(appName);
    },
    appStart: async (request: { name: string; disk?: unknown }) => {
      calls.push(`agent app.start ${request.name}${request.disk === undefined ? '' : ' with disk'}`);
      return fake.onAppStart(request.name);
    },
    memStatus: async () => ({
      numaNodes: [...nodeBytes].map(([id, bytes]) => ({ id, memTotalBytes: bytes, memFreeBytes: bytes })),
    }),
  });
  const machine = {
    spec: { name, slots, spareRootPorts: 2, runDir: `/run/baton/${name}` },
    pid: name === 'vm-a' ? 4101 : 4102,
    startTime: 777,
    qmp,
    agent,
    exited,
    get isRunning() {
      return isRunning;
    },
    /** Lets QEMU run on without the daemon (recorded). */
    detach: () => {
      calls.push('detach');
    },
    /** Stops the QEMU: recorded with its timeout, and the process exits. */
    shutdown: async (options?: { timeoutMs?: number }) => {
      calls.push(`shutdown${options?.timeoutMs === undefined ? '' : ` ${options.timeoutMs} ms`}`);
      exit();
    },
  };
  const occupied = options.occupied ?? {};
  const fake: FakeVm = {
    vm: {
      machine,
      forwards: new Map([['kvd', options.hostPort ?? 0]]),
    } as unknown as PairVm,
    calls,
    qmp,
    onAppStop: async (appName) => ({ name: appName, code: 0, signal: null }),
    onAppStart: async (appName) => ({ name: appName, pid: 77 }),
    onAnswerMemRequest: async () => undefined,
    onQmp: (command, args) => {
      if (command === 'query-pci') return queryPciReply(occupied);
      if (command === 'device_del') {
        setTimeout(
          () => fake.emit('DEVICE_DELETED', { device: args?.id, path: `/machine/peripheral/${args?.id}` }),
          5,
        );
      }
      return {};
    },
    exit: () => exit(),
    nodeBytes,
    detector: new EventEmitter(),
    emit: (event, data = {}) =>
      qmp.emit('event', { event, data, receivedAtMs: performance.now(), qemuTimestampUs: 0 }),
  };
  return fake;
}

/**
 * A VM whose QMP commands named in `failures` fail with their error; QEMU holds the block nodes
 * `nodes` (query-named-block-nodes) and the devices `occupied` behind its root ports.
 */
export function fakeVmFailing(
  name: string,
  failures: Record<string, Error>,
  nodes: string[],
  occupied: Record<string, string[]> = {},
): FakeVm {
  const fake = fakeVm(name, { occupied });
  const answer = fake.onQmp;
  fake.onQmp = (command, args) => {
    const failure = failures[command];
    if (failure !== undefined) throw failure;
    if (command === 'query-named-block-nodes')
      return nodes.map((node) => ({ 'node-name': node, drv: 'raw' }));
    return answer(command, args);
  };
  return fake;
}

/** Answers query-memory-devices from what the fake VM's nodes hold, and app.list with `running`. */
export function reportMemoryAndApps(fake: FakeVm, running: string[]): void {
  const answer = fake.onQmp;
  fake.onQmp = (command, args) => {
    if (command !== 'query-memory-devices') return answer(command, args);
    return fake.vm.machine.spec.slots.map((slot, index) => ({
      type: 'virtio-mem',
      data: { id: deviceIdOf(slot.id), node: index + 1, size: fake.nodeBytes.get(index + 1) ?? 0 },
    }));
  };
  Object.assign(fake.vm.machine.agent, {
    request: async (type: string) => {
      fake.calls.push(`agent ${type}`);
      return { apps: running.map((name, index) => ({ name, pid: 100 + index, running: true })) };
    },
  });
}

function describeArgs(args: Record<string, unknown> | undefined): string {
  if (args === undefined) return '';
  const picked = ['id', 'node-name', 'bus']
    .filter((k) => typeof args[k] === 'string')
    .map((k) => `${k}=${args[k]}`);
  return picked.length === 0 ? '' : ` ${picked.join(' ')}`;
}

/** query-pci as QEMU 7.2 answers it: root ports rp-spare0 and rp-spare1 on bus 0 with what is behind them. */
function queryPciReply(occupied: Record<string, string[]>): unknown {
  const port = (id: string) => ({
    qdev_id: id,
    pci_bridge: { bus: { number: 0 }, devices: (occupied[id] ?? []).map((d) => ({ qdev_id: d })) },
  });
  return [{ bus: 0, devices: [{ qdev_id: '' }, port('rp-spare0'), port('rp-spare1')] }];
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
