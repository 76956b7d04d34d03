// Typed QMP commands: the only file that knows QMP's wire names (kebab-case) and reply shapes.
import type { QmpClient } from './client.js';

export type RunState =
  | 'running'
  | 'paused'
  | 'guest-panicked'
  | 'shutdown'
  | 'prelaunch'
  | 'inmigrate'
  | string;

export interface VmStatus {
  isRunning: boolean;
  runState: RunState;
}

export interface MemorySizeSummary {
  baseMemoryBytes: number;
  pluggedMemoryBytes: number;
}

export interface VirtioMemInfo {
  kind: 'virtio-mem';
  id: string;
  node: number;
  sizeBytes: number;
  maxSizeBytes: number;
  blockSizeBytes: number;
  requestedSizeBytes: number;
  memdev: string;
  /** Where the device's region starts in guest-physical memory (`max-size` long). */
  addressBytes: number;
}

export interface OtherMemoryDevice {
  kind: string;
  id: string;
}

export type MemoryDeviceInfo = VirtioMemInfo | OtherMemoryDevice;

/** `query-status`: QEMU's run state. */
export async function queryStatus(qmp: QmpClient): Promise<VmStatus> {
  const reply = (await qmp.execute('query-status')) as { running: boolean; status: string };
  return { isRunning: reply.running, runState: reply.status };
}

/** `query-memory-size-summary`: boot memory and hot-plugged memory, in bytes. */
export async function queryMemorySizeSummary(qmp: QmpClient): Promise<MemorySizeSummary> {
  const reply = (await qmp.execute('query-memory-size-summary')) as {
    'base-memory': number;
    'plugged-memory'?: number;
  };
  return { baseMemoryBytes: reply['base-memory'], pluggedMemoryBytes: reply['plugged-memory'] ?? 0 };
}

/** `query-memory-devices`: every memory device with its current and requested size. */
export async function queryMemoryDevices(qmp: QmpClient): Promise<MemoryDeviceInfo[]> {
  const reply = (await qmp.execute('query-memory-devices')) as Array<{
    type: string;
    data: Record<string, unknown>;
  }>;
  return reply.map((device) => {
    const data = device.data;
    if (device.type !== 'virtio-mem') return { kind: device.type, id: String(data.id ?? '') };
    return {
      kind: 'virtio-mem',
      id: String(data.id ?? ''),
      node: Number(data.node),
      sizeBytes: Number(data.size),
      maxSizeBytes: Number(data['max-size']),
      blockSizeBytes: Number(data['block-size']),
      requestedSizeBytes: Number(data['requested-size']),
      memdev: String(data.memdev ?? ''),
      addressBytes: Number(data.memaddr),
    };
  });
}

/**
 * `pmemsave`: QEMU writes `sizeBytes` of guest-physical memory from `addressBytes` to `path` (a
 * host file QEMU opens itself). Tests use it as host evidence of what a guest's memory holds.
 */
export async function saveGuestMemory(
  qmp: QmpClient,
  range: { addressBytes: number; sizeBytes: number; path: string },
): Promise<void> {
  await qmp.execute('pmemsave', { val: range.addressBytes, size: range.sizeBytes, filename: range.path });
}

/** `qom-set <device> requested-size`: asks the guest to grow or shrink a virtio-mem device. */
export async function setVirtioMemRequestedSize(
  qmp: QmpClient,
  deviceId: string,
  sizeBytes: number,
): Promise<void> {
  await qmp.execute('qom-set', { path: deviceId, property: 'requested-size', value: sizeBytes });
}

/** `stop`: pauses the guest's CPUs. */
export async function stopVm(qmp: QmpClient): Promise<void> {
  await qmp.execute('stop');
}

/** `cont`: resumes the guest's CPUs. */
export async function continueVm(qmp: QmpClient): Promise<void> {
  await qmp.execute('cont');
}

/** `quit`: asks QEMU to exit. The reply may or may not arrive before the socket closes. */
export async function quitVm(qmp: QmpClient, timeoutMs?: number): Promise<void> {
  await qmp.execute('quit', undefined, timeoutMs);
}

/** A raw image file as a block node: `blockdev-add` of a file node and a raw node on top. */
export async function addRawFileBlockdev(qmp: QmpClient, nodeName: string, filename: string): Promise<void> {
  await qmp.execute('blockdev-add', {
    driver: 'raw',
    'node-name': nodeName,
    file: { driver: 'file', filename, 'node-name': `${nodeName}-file` },
  });
}

/** `query-named-block-nodes` (flat): the node name of every block node QEMU has. */
export async function queryBlockNodeNames(qmp: QmpClient): Promise<string[]> {
  const reply = (await qmp.execute('query-named-block-nodes', { flat: true })) as Array<{
    'node-name'?: unknown;
  }>;
  return reply.flatMap((node) => (typeof node['node-name'] === 'string' ? [node['node-name']] : []));
}

/** `blockdev-del` of a node added by addRawFileBlockdev (its file node goes with it). */
export async function deleteBlockdev(qmp: QmpClient, nodeName: string): Promise<void> {
  await qmp.execute('blockdev-del', { 'node-name': nodeName });
}

/** Hot-adds a virtio-blk disk for `nodeName` on PCIe root port `bus`, visible in the guest by `serial`. */
export async function addVirtioBlkDevice(
  qmp: QmpClient,
  fields: { deviceId: string; nodeName: string; serial: string; bus: string },
): Promise<void> {
  await qmp.execute('device_add', {
    driver: 'virtio-blk-pci',
    id: fields.deviceId,
    drive: fields.nodeName,
    serial: fields.serial,
    bus: fields.bus,
  });
}

/** `device_del`: asks the guest to release a device; completion is the DEVICE_DELETED event. */
export async function deleteDevice(qmp: QmpClient, deviceId: string): Promise<void> {
  await qmp.execute('device_del', { id: deviceId });
}

/**
 * `MEMORY_DEVICE_SIZE_CHANGE` as QEMU 7.2 sends it: `{ id, size, qom-path }`. QEMU rate-limits it to
 * about one per second per device and sends the latest size at the end of each second, so it can
 * report an intermediate size and then lag the device by up to a second.
 */
export interface MemoryDeviceSizeChange {
  /** The device's id (`vmem-slot0`); absent for a device created without one. */
  deviceId: string | undefined;
  qomPath: string;
  sizeBytes: number;
  /** Host monotonic time (performance.now()) when the event arrived. */
  receivedAtMs: number;
}

/** Calls `listener` for every MEMORY_DEVICE_SIZE_CHANGE from now on; returns the function that stops it. */
export function onMemoryDeviceSizeChange(
  qmp: QmpClient,
  listener: (change: MemoryDeviceSizeChange) => void,
): () => void {
  const onEvent = (event: { event: string; data: Record<string, unknown>; receivedAtMs: number }) => {
    if (event.event !== 'MEMORY_DEVICE_SIZE_CHANGE') return;
    const { id, size } = event.data;
    if (typeof size !== 'number' || !Number.isSafeInteger(size)) return;
    listener({
      deviceId: typeof id === 'string' ? id : undefined,
      qomPath: String(event.data['qom-path'] ?? ''),
      sizeBytes: size,
      receivedAtMs: event.receivedAtMs,
    });
  };
  qmp.on('event', onEvent);
  return () => {
    qmp.off('event', onEvent);
  };
}

/** `DEVICE_DELETED`: QEMU has removed a device (for a hot-unplug, once the guest released it). */
export interface DeviceDeleted {
  /** The device's id (`blk-kvd`); absent for a part without one, such as a virtio device's backend. */
  deviceId: string | undefined;
  qomPath: string;
  /** Host monotonic time (performance.now()) when the event arrived. */
  receivedAtMs: number;
}

/** Calls `listener` for every DEVICE_DELETED from now on; returns the function that stops it. */
export function onDeviceDeleted(qmp: QmpClient, listener: (deleted: DeviceDeleted) => void): () => void {
  const onEvent = (event: { event: string; data: Record<string, unknown>; receivedAtMs: number }) => {
    if (event.event !== 'DEVICE_DELETED') return;
    const { device, path } = event.data;
    listener({
      deviceId: typeof device === 'string' ? device : undefined,
      qomPath: typeof path === 'string' ? path : '',
      receivedAtMs: event.receivedAtMs,
    });
  };
  qmp.on('event', onEvent);
  return () => {
    qmp.off('event', onEvent);
  };
}

/** A PCI bridge (such as a PCIe root port) that has an id, and the ids of the devices behind it. */
export interface PciBridgeOccupancy {
  bridgeId: string;
  /** Devices on the bridge's secondary bus; an id-less device counts as ''. */
  deviceIds: string[];
}

/** `query-pci`: every bridge with an id (root ports included, at any depth) and what is plugged behind it. */
export async function queryPciBridges(qmp: QmpClient): Promise<PciBridgeOccupancy[]> {
  interface PciDevice {
    qdev_id?: string;
    pci_bridge?: { devices?: PciDevice[] };
  }
  const reply = (await qmp.execute('query-pci')) as Array<{ devices?: PciDevice[] }>;
  const bridges: PciBridgeOccupancy[] = [];
  const visit = (devices: readonly PciDevice[]): void => {
    for (const device of devices) {
      if (device.pci_bridge === undefined) continue;
      const behind = device.pci_bridge.devices ?? [];
      if (device.qdev_id)
        bridges.push({ bridgeId: device.qdev_id, deviceIds: behind.map((d) => d.qdev_id ?? '') });
      visit(behind);
    }
  };
  for (const bus of reply) visit(bus.devices ?? []);
  return bridges;
}
