import { afterEach, describe, expect, it } from 'vitest';
import { QmpCommandError } from '../../../src/errors.js';
import { createSilentLogger } from '../../../src/log.js';
import type { QmpClient } from '../../../src/qmp/client.js';
import {
  addRawFileBlockdev,
  addVirtioBlkDevice,
  continueVm,
  type DeviceDeleted,
  deleteBlockdev,
  deleteDevice,
  type MemoryDeviceSizeChange,
  onDeviceDeleted,
  onMemoryDeviceSizeChange,
  queryBlockNodeNames,
  queryMemoryDevices,
  queryMemorySizeSummary,
  queryPciBridges,
  queryStatus,
  quitVm,
  saveGuestMemory,
  setVirtioMemRequestedSize,
  stopVm,
} from '../../../src/qmp/commands.js';
import { connectQmp } from '../../../src/qmp/connect.js';
import { FakeQmpPeer } from '../../fakes/qmp-peer.js';

let peer: FakeQmpPeer;
let client: QmpClient | undefined;

async function scripted(setup: (peer: FakeQmpPeer) => void): Promise<QmpClient> {
  peer = new FakeQmpPeer();
  setup(peer);
  await peer.listen();
  client = await connectQmp(peer.socketPath, { vm: 'vm-a', log: createSilentLogger(), timeoutMs: 2000 });
  return client;
}

/** What the client sent after negotiating, as `[command, arguments]`. */
const sent = () => peer.received.slice(1).map((m) => [m.execute, m.arguments]);

afterEach(async () => {
  client?.close();
  client = undefined;
  await peer?.close();
});

describe('typed QMP queries', () => {
  it('reads the run state', async () => {
    const qmp = await scripted((p) => p.expect('query-status', { running: false, status: 'guest-panicked' }));
    await expect(queryStatus(qmp)).resolves.toEqual({ isRunning: false, runState: 'guest-panicked' });
  });

  it('reads the memory summary, with no plugged memory when QEMU leaves the field out', async () => {
    const qmp = await scripted((p) =>
      p
        .expect('query-memory-size-summary', { 'base-memory': 1024, 'plugged-memory': 512 })
        .expect('query-memory-size-summary', { 'base-memory': 1024 }),
    );
    await expect(queryMemorySizeSummary(qmp)).resolves.toEqual({
      baseMemoryBytes: 1024,
      pluggedMemoryBytes: 512,
    });
    await expect(queryMemorySizeSummary(qmp)).resolves.toEqual({
      baseMemoryBytes: 1024,
      pluggedMemoryBytes: 0,
    });
  });

  it('maps virtio-mem devices to camelCase byte fields and keeps other kinds by id', async () => {
    const vmem = {
      id: 'vmem-slot0',
      node: 1,
      size: 256,
      'max-size': 512,
      'block-size': 2,
      'requested-size': 256,
      memdev: '/objects/mem-slot0',
      memaddr: 4096,
    };
    const qmp = await scripted((p) =>
      p.expect('query-memory-devices', [
        { type: 'virtio-mem', data: vmem },
        { type: 'dimm', data: { id: 'dimm0' } },
        { type: 'dimm', data: {} },
      ]),
    );
    await expect(queryMemoryDevices(qmp)).resolves.toEqual([
      {
        kind: 'virtio-mem',
        id: 'vmem-slot0',
        node: 1,
        sizeBytes: 256,
        maxSizeBytes: 512,
        blockSizeBytes: 2,
        requestedSizeBytes: 256,
        memdev: '/objects/mem-slot0',
        addressBytes: 4096,
      },
      { kind: 'dimm', id: 'dimm0' },
      { kind: 'dimm', id: '' },
    ]);
  });

  it('lists block node names, skipping nodes without a string name', async () => {
    const qmp = await scripted((p) =>
      p.expect('query-named-block-nodes', [{ 'node-name': 'disk-kvd' }, {}, { 'node-name': 7 }]),
    );
    await expect(queryBlockNodeNames(qmp)).resolves.toEqual(['disk-kvd']);
    expect(sent()).toEqual([['query-named-block-nodes', { flat: true }]]);
  });

  it('finds bridges with an id at any depth, what is behind them, and skips id-less bridges', async () => {
    const port = (id: string, devices: unknown[]) => ({
      qdev_id: id,
      pci_bridge: { bus: { number: 1 }, devices },
    });
    const qmp = await scripted((p) =>
      p.expect('query-pci', [
        {
          bus: 0,
          devices: [
            { qdev_id: '' },
            port('rp-spare0', [{ qdev_id: 'blk-kvd' }, {}]),
            port('', [port('rp-nested', [])]),
            { qdev_id: 'net0' },
          ],
        },
        { bus: 2 },
      ]),
    );
    await expect(queryPciBridges(qmp)).resolves.toEqual([
      { bridgeId: 'rp-spare0', deviceIds: ['blk-kvd', ''] },
      { bridgeId: 'rp-nested', deviceIds: [] },
    ]);
  });
});

describe('typed QMP actions', () => {
  it('sends each action under its wire name with its wire arguments', async () => {
    const qmp = await scripted((p) => {
      for (const command of [
        'pmemsave',
        'qom-set',
        'stop',
        'cont',
        'blockdev-add',
        'blockdev-del',
        'device_add',
        'device_del',
        'quit',
      ])
        p.expect(command, {});
    });
    await saveGuestMemory(qmp, { addressBytes: 4096, sizeBytes: 8192, path: '/tmp/x/mem.bin' });
    await setVirtioMemRequestedSize(qmp, 'vmem-slot0', 256);
    await stopVm(qmp);
    await continueVm(qmp);
    await addRawFileBlockdev(qmp, 'disk-kvd', '/var/lib/baton/kvd.img');
    await deleteBlockdev(qmp, 'disk-kvd');
    await addVirtioBlkDevice(qmp, {
      deviceId: 'blk-kvd',
      nodeName: 'disk-kvd',
      serial: 'baton-kvd',
      bus: 'rp-spare0',
    });
    await deleteDevice(qmp, 'blk-kvd');
    await quitVm(qmp, 500);
    expect(sent()).toEqual([
      ['pmemsave', { val: 4096, size: 8192, filename: '/tmp/x/mem.bin' }],
      ['qom-set', { path: 'vmem-slot0', property: 'requested-size', value: 256 }],
      ['stop', undefined],
      ['cont', undefined],
      [
        'blockdev-add',
        {
          driver: 'raw',
          'node-name': 'disk-kvd',
          file: { driver: 'file', filename: '/var/lib/baton/kvd.img', 'node-name': 'disk-kvd-file' },
        },
      ],
      ['blockdev-del', { 'node-name': 'disk-kvd' }],
      [
        'device_add',
        { driver: 'virtio-blk-pci', id: 'blk-kvd', drive: 'disk-kvd', serial: 'baton-kvd', bus: 'rp-spare0' },
      ],
      ['device_del', { id: 'blk-kvd' }],
      ['quit', undefined],
    ]);
    expect(peer.mismatches).toEqual([]);
  });

  it('passes QEMU’s refusal on as QmpCommandError with its class and description', async () => {
    const qmp = await scripted((p) =>
      p.expectError('device_add', 'GenericError', "Duplicate device ID 'blk-kvd' for device"),
    );
    const error = await addVirtioBlkDevice(qmp, {
      deviceId: 'blk-kvd',
      nodeName: 'n',
      serial: 's',
      bus: 'b',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpCommandError);
    expect(error).toMatchObject({ command: 'device_add', errorClass: 'GenericError' });
  });

  it('times out a quit whose reply never comes', async () => {
    const qmp = await scripted((p) => p.expectHang('quit'));
    await expect(quitVm(qmp, 50)).rejects.toMatchObject({ code: 'WAIT_TIMEOUT' });
  });
});

describe('typed QMP events', () => {
  it('reports size changes with an integer size, skips hostile ones, and stops when asked', async () => {
    const qmp = await scripted(() => undefined);
    const changes: MemoryDeviceSizeChange[] = [];
    const stop = onMemoryDeviceSizeChange(qmp, (change) => changes.push(change));
    peer.emitEvent('MEMORY_DEVICE_SIZE_CHANGE', { size: '12', 'qom-path': '/x' });
    peer.emitEvent('MEMORY_DEVICE_SIZE_CHANGE', { size: 1.5, 'qom-path': '/x' });
    peer.emitEvent('MEMORY_DEVICE_SIZE_CHANGE', { size: 2 ** 60, 'qom-path': '/x' });
    peer.emitEvent('DEVICE_DELETED', { device: 'vmem-slot0', path: '/p' });
    peer.emitEvent('MEMORY_DEVICE_SIZE_CHANGE', { id: 5, size: 0 });
    peer.emitEvent('MEMORY_DEVICE_SIZE_CHANGE', {
      id: 'vmem-slot0',
      size: 256,
      'qom-path': '/machine/peripheral/vmem-slot0',
    });
    await expect.poll(() => changes.length).toBe(2);
    expect(changes).toEqual([
      { deviceId: undefined, qomPath: '', sizeBytes: 0, receivedAtMs: expect.any(Number) },
      {
        deviceId: 'vmem-slot0',
        qomPath: '/machine/peripheral/vmem-slot0',
        sizeBytes: 256,
        receivedAtMs: expect.any(Number),
      },
    ]);
    stop();
    peer.emitEvent('MEMORY_DEVICE_SIZE_CHANGE', { id: 'vmem-slot0', size: 0 });
    await qmp.waitForEvent('MEMORY_DEVICE_SIZE_CHANGE', { size: 0 }, 2000);
    expect(changes).toHaveLength(2);
  });

  it('reports deleted devices, with an id only when QEMU gave a string one', async () => {
    const qmp = await scripted(() => undefined);
    const deleted: DeviceDeleted[] = [];
    const stop = onDeviceDeleted(qmp, (d) => deleted.push(d));
    peer.emitEvent('MEMORY_DEVICE_SIZE_CHANGE', { id: 'x', size: 1 });
    peer.emitEvent('DEVICE_DELETED', { path: '/machine/peripheral/blk-kvd/virtio-backend' });
    peer.emitEvent('DEVICE_DELETED', { device: 9, path: 9 });
    peer.emitEvent('DEVICE_DELETED', { device: 'blk-kvd', path: '/machine/peripheral/blk-kvd' });
    await expect.poll(() => deleted.length).toBe(3);
    expect(deleted.map((d) => [d.deviceId, d.qomPath])).toEqual([
      [undefined, '/machine/peripheral/blk-kvd/virtio-backend'],
      [undefined, ''],
      ['blk-kvd', '/machine/peripheral/blk-kvd'],
    ]);
    stop();
    peer.emitEvent('DEVICE_DELETED', { device: 'late' });
    await qmp.waitForEvent('DEVICE_DELETED', { device: 'late' }, 2000);
    expect(deleted).toHaveLength(3);
  });
});
