// Places one app on one VM: its data disk, its memory (plugged, confirmed by QEMU and the agent), start, health.
import type { AppStartRequest } from '../agent/protocol.js';
import { AgentError, WaitTimeoutError } from '../errors.js';
import type { MemoryMechanism } from '../memory/mechanism.js';
import { targetOf } from '../memory/mechanism.js';
import type { AppConfig } from './config.js';
import { attachDataDisk, type DataDisk } from './disk.js';
import { waitForHealthy } from './health.js';
import type { PairVm } from './vm-factory.js';

export type PhaseRunner = <T>(name: string, work: () => Promise<T>) => Promise<T>;

const runDirectly: PhaseRunner = (_name, work) => work();

export interface PlacedApp {
  guestPid: number;
  pluggedBytes: number;
  hostPort: number;
}

/**
 * disk → plug → confirm → start → healthy, each a named phase. The memory is confirmed twice:
 * QEMU reports the slot at its size, and the guest's agent sees it online on the slot's node.
 */
export async function placeApp(
  vm: PairVm,
  app: AppConfig,
  options: {
    mechanism: MemoryMechanism;
    /** The app's area now (the table's size: it may have grown from the pool); default: its configured size. */
    sizeBytes?: number;
    disk?: DataDisk;
    diskPortIndex: number;
    healthTimeoutMs: number;
    /** Start the app on an empty slot: the agent asks for the memory (mem.request) and the monitor grants it. */
    isMemoryRequestedByGuest?: boolean;
    phase?: PhaseRunner;
  },
): Promise<PlacedApp> {
  const phase = options.phase ?? runDirectly;
  const sizeBytes = options.sizeBytes ?? app.sizeBytes;
  const { machine } = vm;
  const disk = options.disk;
  if (disk !== undefined) await phase('disk', () => attachDataDisk(machine, disk, options.diskPortIndex));
  const node = machine.spec.slots.findIndex((slot) => slot.id === app.slot) + 1;
  // Guest-requested memory (seed claim 5): the agent finds the node short and asks; the monitor grants and plugs.
  const plugged = options.isMemoryRequestedByGuest
    ? { pluggedBytes: sizeBytes }
    : await phase('plug', () => options.mechanism.plug(targetOf(machine), app.slot, sizeBytes));
  if (options.isMemoryRequestedByGuest !== true) {
    await phase('confirm', () => waitForGuestNode(vm, node, sizeBytes, 10_000));
  }
  const started = await phase('start', () =>
    machine.agent.appStart(appStartRequest(app, node, disk, sizeBytes), 15_000),
  );
  const hostPort = vm.forwards.get(app.name) ?? 0;
  await phase('healthy', () =>
    waitForHealthy(hostPort, {
      timeoutMs: options.healthTimeoutMs,
      what: `${app.name} on ${machine.spec.name}`,
    }),
  );
  return { guestPid: started.pid, pluggedBytes: plugged.pluggedBytes, hostPort };
}

/** What the agent is asked to start: argv, data disk, memory cap and node binding, health check. */
export function appStartRequest(
  app: AppConfig,
  node: number,
  disk: DataDisk | undefined,
  sizeBytes = app.sizeBytes,
): AppStartRequest {
  return {
    name: app.name,
    argv: app.argv,
    memoryBytes: sizeBytes,
    node,
    ...(disk === undefined ? {} : { disk: { serial: disk.serial, mountPoint: `/data/${app.name}` } }),
    ...(app.health === undefined ? {} : { health: { port: app.guestPort, ...app.health } }),
  };
}

/** Polls the agent until NUMA node `node` holds at least `bytes` (the guest has onlined the memory). */
export async function waitForGuestNode(
  vm: PairVm,
  node: number,
  bytes: number,
  timeoutMs: number,
): Promise<void> {
  const startedAtMs = performance.now();
  let lastSeen = 'no answer';
  while (performance.now() - startedAtMs < timeoutMs) {
    const status = await vm.machine.agent.memStatus(2000).catch((error: unknown) => {
      // The guest's sysfs is in flux while it onlines the memory: a failed read is asked again.
      if (error instanceof AgentError && error.agentCode === 'internal') return undefined;
      throw error;
    });
    if (status === undefined) {
      lastSeen = 'the agent could not read its NUMA nodes';
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    const seen = status.numaNodes.find((n) => n.id === node)?.memTotalBytes ?? 0;
    if (seen >= bytes) return;
    lastSeen = `node ${node} has ${seen} bytes`;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new WaitTimeoutError({
    waitedFor: `the guest on ${vm.machine.spec.name} to online ${bytes} bytes on node ${node}`,
    timeoutMs,
    lastSeen,
  });
}
