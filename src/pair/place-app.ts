// Places one app on one VM: its data disk, its memory (plugged, confirmed by QEMU and the agent), start, health.
import type { AppStartHealth, AppStartRequest } from '../agent/protocol.js';
import { AgentError, WaitTimeoutError } from '../errors.js';
import type { MemoryMechanism } from '../memory/mechanism.js';
import { targetOf } from '../memory/mechanism.js';
import { startAppAndAwaitReady } from './app-ready.js';
import type { AppConfig } from './config.js';
import { attachDataDisk, type DataDisk } from './disk.js';
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
  if (options.isMemoryRequestedByGuest === true) await emptySlot(vm, app, options.mechanism);
  const plugged = options.isMemoryRequestedByGuest
    ? { pluggedBytes: sizeBytes }
    : await phase('plug', () => options.mechanism.plug(targetOf(machine), app.slot, sizeBytes));
  if (options.isMemoryRequestedByGuest !== true) {
    await phase('confirm', () => waitForGuestNode(vm, node, sizeBytes, 10_000));
  }
  const guestPid = await startAppAndAwaitReady(vm, app, appStartRequest(app, node, disk, sizeBytes), {
    healthTimeoutMs: options.healthTimeoutMs,
    what: `${app.name} on ${machine.spec.name}`,
    phase,
  });
  const hostPort = vm.forwards.get(app.name) ?? 0;
  return { guestPid, pluggedBytes: plugged.pluggedBytes, hostPort };
}

/**
 * Unplugs what QEMU still has in the app's slot before the app starts to ask for its memory. The
 * table gives it no area, so anything plugged there is unrecorded: a grant plugged by a daemon
 * killed before it committed. Left plugged, the agent would find the node big enough, never ask,
 * and the app would run with no area in the table.
 */
async function emptySlot(vm: PairVm, app: AppConfig, mechanism: MemoryMechanism): Promise<void> {
  const target = targetOf(vm.machine);
  const [slot] = await mechanism.observe(target, app.slot);
  if (slot === undefined || slot.pluggedBytes === 0) return;
  await mechanism.unplug(target, app.slot);
}

/** Where an app's data disk is mounted in the guest when the config does not say. */
export function defaultMountPoint(app: string): string {
  return `/data/${app}`;
}

/** What the agent is asked to start: argv or unit (with user, group, env, workdir), data disk, memory cap and node binding, health check. */
export function appStartRequest(
  app: AppConfig,
  node: number,
  disk: DataDisk | undefined,
  sizeBytes = app.sizeBytes,
): AppStartRequest {
  const options = app.dataDisk;
  return {
    name: app.name,
    ...(app.argv === undefined ? {} : { argv: app.argv }),
    ...(app.unit === undefined ? {} : { unit: app.unit }),
    ...(app.user === undefined ? {} : { user: app.user }),
    ...(app.group === undefined ? {} : { group: app.group }),
    ...(app.env === undefined
      ? {}
      : { env: Object.entries(app.env).map(([key, value]) => `${key}=${value}`) }),
    ...(app.workdir === undefined ? {} : { workdir: app.workdir }),
    memoryBytes: sizeBytes,
    node,
    ...(disk === undefined
      ? {}
      : {
          disk: {
            serial: disk.serial,
            mountPoint: options?.mountPoint ?? defaultMountPoint(app.name),
            ...(options?.owner === undefined ? {} : { owner: options.owner }),
            ...(options?.prepare === undefined ? {} : { prepare: options.prepare }),
          },
        }),
    ...(app.health === undefined ? {} : { health: healthRequest(app.health, app.guestPort) }),
  };
}

/** The health check as the agent takes it: exec needs no port. */
function healthRequest(health: NonNullable<AppConfig['health']>, guestPort: number): AppStartHealth {
  return health.kind === 'exec' ? { ...health } : { port: guestPort, ...health };
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
    let isSlow = false;
    const status = await vm.machine.agent.memStatus(2000).catch((error: unknown) => {
      // The guest's sysfs is in flux while it onlines the memory: a failed read is asked again.
      if (error instanceof AgentError && error.agentCode === 'internal') return undefined;
      // A busy guest (many apps' checks under TCG) may answer late: asked again within the deadline.
      if (error instanceof WaitTimeoutError) {
        isSlow = true;
        return undefined;
      }
      throw error;
    });
    if (status === undefined) {
      lastSeen = isSlow ? 'no mem.status reply within 2000 ms' : 'the agent could not read its NUMA nodes';
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
