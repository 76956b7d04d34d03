// Starting one app on a VM of the pair outside a failover: at boot, after a re-attach, or an ordinary app placed once the pool allows.
import type { MemoryMechanism } from '../memory/mechanism.js';
import { appAreaName, type ResourceTable, recordObserved, startApp } from '../table/index.js';
import { isConfigStartFailure } from './app-ready.js';
import type { AppConfig, PairConfig } from './config.js';
import type { DataDisk } from './disk.js';
import { placeApp } from './place-app.js';
import { attachDiskAgain } from './vm-actions.js';
import type { PairVm } from './vm-factory.js';

/** What a start reads of the pair, and the one way it changes its table. */
export interface AppStartHost {
  readonly config: PairConfig;
  readonly mechanism: MemoryMechanism;
  readonly disks: ReadonlyMap<string, DataDisk>;
  readonly table: ResourceTable;
  /** Applies `change` to the table current at that moment. */
  commitTable(change: (table: ResourceTable) => ResourceTable): ResourceTable;
}

function appOf(host: AppStartHost, name: string): AppConfig | undefined {
  return host.config.apps.find((a) => a.name === name);
}

/** The index of the app's disk among the apps that have one (its root port at boot). */
function diskPortIndexOf(host: AppStartHost, app: AppConfig): number {
  return host.config.apps.filter((a) => a.diskBytes !== undefined).findIndex((a) => a.name === app.name);
}

/**
 * Starts `name` on `vm` (the active) and commits its area. A hot-standby app's area is carved by
 * the monitor and plugged before it starts; an ordinary app starts on an empty slot and its agent
 * asks for the memory (mem-requests.ts grants it). Resolves with the host port it serves on.
 */
export async function startAppOn(host: AppStartHost, name: string, vm: PairVm | undefined): Promise<number> {
  const app = appOf(host, name);
  if (app === undefined || vm === undefined)
    throw new Error(`startAppOnActive: unknown app ${name} or no active VM`);
  const disk = host.disks.get(app.name);
  const isRequested = !app.hotStandby;
  // Carved at commit from the table current then: a grant committed while the app started is kept.
  const commitStarted = (pluggedBytes: number) =>
    host.commitTable(
      (table) =>
        recordObserved(
          startApp(table, {
            app: app.name,
            vm: vm.machine.spec.name,
            sizeBytes: app.sizeBytes,
            hotStandby: app.hotStandby,
            slot: app.slot,
          }).table,
          { area: appAreaName(app.name), pluggedBytes, atMs: performance.now(), by: 'qmp' },
        ).table,
    );
  const placed = await placeApp(vm, app, {
    mechanism: host.mechanism,
    sizeBytes: app.sizeBytes,
    diskPortIndex: diskPortIndexOf(host, app),
    healthTimeoutMs: host.config.healthTimeoutMs,
    isMemoryRequestedByGuest: isRequested,
    ...(disk === undefined ? {} : { disk }),
  }).catch((error: unknown) => {
    // The agent refused the app after its memory was plugged: the table records the area as QEMU has it.
    if (!isRequested && isConfigStartFailure(error)) commitStarted(app.sizeBytes);
    throw error;
  });
  if (!isRequested) commitStarted(placed.pluggedBytes);
  return placed.hostPort;
}

/**
 * Starts an app whose area the table already gives `vm` (plugging the same size again is no
 * change). Resolves with the host port it serves on; undefined when the app is unknown or has
 * no area (the caller starts it as new on the active).
 */
export async function restartAppOn(
  host: AppStartHost,
  name: string,
  vm: PairVm,
): Promise<number | undefined> {
  const app = appOf(host, name);
  const area = host.table.areas.find((a) => a.name === appAreaName(name));
  if (app === undefined || area === undefined) return undefined;
  const disk = host.disks.get(app.name);
  const diskPortIndex = diskPortIndexOf(host, app);
  const placed = await placeApp(vm, app, {
    mechanism: host.mechanism,
    sizeBytes: area.sizeBytes,
    diskPortIndex,
    healthTimeoutMs: host.config.healthTimeoutMs,
    // A move rolled back after its stop leaves the disk attached: that counts as attached.
    phase: (phaseName, work) =>
      phaseName === 'disk' && disk !== undefined
        ? ((() => attachDiskAgain(vm, disk, diskPortIndex))() as ReturnType<typeof work>)
        : work(),
    ...(disk === undefined ? {} : { disk }),
  });
  return placed.hostPort;
}
