// One scripted VM of the pair: QMP (commands recorded, events on demand), agent, process and the memory its guest holds.
import { EventEmitter } from 'node:events';
import { deviceIdOf } from '../../../src/memory/mechanism.js';
import type { PairVm } from '../../../src/pair/vm-factory.js';
import { MiB } from '../../../src/units.js';
import { fakeProcessExit } from '../../fakes/process-exit.js';

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
  const { exited, exit, isRunning } = fakeProcessExit();
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
      return isRunning();
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
