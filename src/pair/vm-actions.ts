// Single actions on one VM that failover steps are made of: stop an app, find a root port, attach a disk again.
import { AgentError, AppMoveRefusedError, QmpCommandError } from '../errors.js';
import {
  addRawFileBlockdev,
  addVirtioBlkDevice,
  queryBlockNodeNames,
  queryPciBridges,
} from '../qmp/commands.js';
import { spareRootPortId } from '../vm/spec.js';
import type { DataDisk } from './disk.js';
import { diskDeviceIdOf, diskNodeNameOf } from './disk-detach.js';
import type { PairVm } from './vm-factory.js';

export const APP_STOP_TIMEOUT_MS = 10_000;
export const DISK_DETACH_TIMEOUT_MS = 20_000;

/** Stops the app; one that already exited (the crash that triggered the move) counts as stopped. */
export async function stopApp(vm: PairVm, name: string): Promise<void> {
  try {
    await vm.machine.agent.appStop(name, APP_STOP_TIMEOUT_MS);
  } catch (error) {
    // The agent reaped it already, and unmounted its disk when it did.
    if (error instanceof AgentError && error.agentCode === 'not-running') return;
    throw error;
  }
}

/**
 * A free spare root port on `vm` for the app's disk, as QEMU reports it (`query-pci`). Taken from
 * the highest index down: a whole-VM failover places its apps' disks from index 0 up.
 */
export async function freeRootPort(vm: PairVm, app: string): Promise<number> {
  const count = vm.machine.spec.spareRootPorts ?? 0;
  const bridges = await queryPciBridges(vm.machine.qmp);
  for (let index = count - 1; index >= 0; index -= 1) {
    const port = bridges.find((bridge) => bridge.bridgeId === spareRootPortId(index));
    if (port?.deviceIds.length === 0) return index;
  }
  throw new AppMoveRefusedError({
    app,
    toVm: vm.machine.spec.name,
    detail: `no free root port for its data disk (${count} spare ports, none empty)`,
  });
}

/** The root port that holds the app's disk on `vm` already, else a free one. */
export async function diskPortOf(vm: PairVm, app: string): Promise<number> {
  const bridges = await queryPciBridges(vm.machine.qmp);
  const count = vm.machine.spec.spareRootPorts ?? 0;
  for (let index = 0; index < count; index += 1) {
    const port = bridges.find((bridge) => bridge.bridgeId === spareRootPortId(index));
    if (port?.deviceIds.includes(diskDeviceIdOf(app))) return index;
  }
  return freeRootPort(vm, app);
}

/**
 * The disk phase run again: a crash may have come after `blockdev-add` or after `device_add`, so
 * a node or device that already exists counts as attached. Decided by what QEMU reports after a
 * refused command (the node in `query-named-block-nodes`, the device on a root port in
 * `query-pci`), never by the refusal's text: QEMU says GenericError for a duplicate and for any
 * other failure alike.
 */
export async function attachDiskAgain(target: PairVm, disk: DataDisk, portIndex: number): Promise<void> {
  const qmp = target.machine.qmp;
  const nodeName = diskNodeNameOf(disk.app);
  const deviceId = diskDeviceIdOf(disk.app);
  try {
    await addRawFileBlockdev(qmp, nodeName, disk.path);
  } catch (error) {
    if (!(error instanceof QmpCommandError) || !(await queryBlockNodeNames(qmp)).includes(nodeName))
      throw error;
  }
  try {
    await addVirtioBlkDevice(qmp, {
      deviceId,
      nodeName,
      serial: disk.serial,
      bus: spareRootPortId(portIndex),
    });
  } catch (error) {
    if (!(error instanceof QmpCommandError)) throw error;
    const bridges = await queryPciBridges(qmp);
    if (!bridges.some((bridge) => bridge.deviceIds.includes(deviceId))) throw error;
  }
}
