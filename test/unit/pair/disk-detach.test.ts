import { afterEach, describe, expect, it } from 'vitest';
import { QmpCommandError, QmpDisconnectedError, WaitTimeoutError } from '../../../src/errors.js';
import { createSilentLogger } from '../../../src/log.js';
import { detachDataDisk, diskDeviceIdOf, diskNodeNameOf } from '../../../src/pair/disk-detach.js';
import type { QmpClient } from '../../../src/qmp/client.js';
import { connectQmp } from '../../../src/qmp/connect.js';
import { FakeQmpPeer } from '../../fakes/qmp-peer.js';

const disk = { app: 'kvd', path: '/tmp/kvd.img', serial: 'baton-kvd' };
/** What QEMU 7.2 sends when a guest releases a virtio-blk-pci device: its backend first, then the device. */
const BACKEND_DELETED = { path: '/machine/peripheral/blk-kvd/virtio-backend' };
const DEVICE_DELETED = { device: 'blk-kvd', path: '/machine/peripheral/blk-kvd' };

let peer: FakeQmpPeer | undefined;
let qmp: QmpClient | undefined;

afterEach(async () => {
  qmp?.close();
  qmp = undefined;
  await peer?.close();
  peer = undefined;
});

async function connect(script: (peer: FakeQmpPeer) => void) {
  peer = new FakeQmpPeer();
  script(peer);
  await peer.listen();
  qmp = await connectQmp(peer.socketPath, { vm: 'vm-a', log: createSilentLogger(), timeoutMs: 2000 });
  return { peer, host: { spec: { name: 'vm-a' }, qmp } };
}

function commandsSent(p: FakeQmpPeer): string[] {
  return p.received.map((m) => m.execute).filter((c) => c !== 'qmp_capabilities');
}

describe('detachDataDisk', () => {
  it('names the device and node as attachDataDisk does', () => {
    expect(diskDeviceIdOf('kvd')).toBe('blk-kvd');
    expect(diskNodeNameOf('kvd')).toBe('disk-kvd');
  });

  it('deletes the device, waits for its DEVICE_DELETED, then deletes the block node', async () => {
    const { peer, host } = await connect((p) =>
      p.expect('device_del', {}, { id: 'blk-kvd' }).expect('blockdev-del', {}, { 'node-name': 'disk-kvd' }),
    );
    peer.emitEvent('DEVICE_DELETED', BACKEND_DELETED, 30);
    peer.emitEvent('DEVICE_DELETED', DEVICE_DELETED, 60);
    const startedAtMs = performance.now();
    await detachDataDisk(host, disk, 2000);
    expect(performance.now() - startedAtMs).toBeGreaterThanOrEqual(50);
    expect(commandsSent(peer)).toEqual(['device_del', 'blockdev-del']);
    expect(peer.mismatches).toEqual([]);
  });

  it('does not delete the block node before the device is gone', async () => {
    const { peer, host } = await connect((p) => p.expect('device_del', {}).expect('blockdev-del', {}));
    peer.emitEvent('DEVICE_DELETED', DEVICE_DELETED, 150);
    const detached = detachDataDisk(host, disk, 2000);
    await new Promise((r) => setTimeout(r, 100));
    expect(commandsSent(peer)).toEqual(['device_del']);
    await detached;
    expect(commandsSent(peer)).toEqual(['device_del', 'blockdev-del']);
  });

  it('times out naming the device when the guest never releases it, and keeps the block node', async () => {
    const { peer, host } = await connect((p) => p.expect('device_del', {}));
    peer.emitEvent('DEVICE_DELETED', BACKEND_DELETED, 10);
    peer.emitEvent('DEVICE_DELETED', { device: 'blk-other', path: '/machine/peripheral/blk-other' }, 20);
    const error = await detachDataDisk(host, disk, 120).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error).toMatchObject({
      code: 'WAIT_TIMEOUT',
      waitedFor: 'QMP DEVICE_DELETED of blk-kvd on vm-a',
      timeoutMs: 120,
      message:
        'Timed out after 120 ms waiting for QMP DEVICE_DELETED of blk-kvd on vm-a; last seen: no DEVICE_DELETED for it; the guest has not released the disk (is it still mounted?)',
    });
    expect(commandsSent(peer)).toEqual(['device_del']);
  });

  it('treats a device that is already gone as released and still deletes the node', async () => {
    const { peer, host } = await connect((p) =>
      p.expectError('device_del', 'DeviceNotFound', "Device 'blk-kvd' not found").expect('blockdev-del', {}),
    );
    await detachDataDisk(host, disk, 100);
    expect(commandsSent(peer)).toEqual(['device_del', 'blockdev-del']);
  });

  it('treats a block node that is already gone as deleted', async () => {
    const { host } = await connect((p) =>
      p
        .expectError('device_del', 'DeviceNotFound', "Device 'blk-kvd' not found")
        .expectError('blockdev-del', 'GenericError', "Failed to find node with node-name='disk-kvd'"),
    );
    await expect(detachDataDisk(host, disk, 100)).resolves.toBeUndefined();
  });

  it('throws when QEMU refuses the block node deletion for another reason', async () => {
    const { peer, host } = await connect((p) =>
      p.expect('device_del', {}).expectError('blockdev-del', 'GenericError', 'Node disk-kvd is in use'),
    );
    peer.emitEvent('DEVICE_DELETED', DEVICE_DELETED, 10);
    const error = await detachDataDisk(host, disk, 1000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpCommandError);
    expect((error as Error).message).toBe('QMP blockdev-del failed on vm-a: Node disk-kvd is in use');
  });

  it('throws when device_del is refused and sends nothing more', async () => {
    const { peer, host } = await connect((p) =>
      p.expectError('device_del', 'GenericError', 'Bus does not support hot-unplugging'),
    );
    const error = await detachDataDisk(host, disk, 1000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpCommandError);
    expect(commandsSent(peer)).toEqual(['device_del']);
  });

  it('fails at once when QMP closes during the wait', async () => {
    const { peer, host } = await connect((p) => p.expect('device_del', {}));
    setTimeout(() => peer.disconnect(), 30);
    const startedAtMs = performance.now();
    const error = await detachDataDisk(host, disk, 5000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpDisconnectedError);
    expect((error as Error).message).toBe(
      'QMP wait for DEVICE_DELETED of blk-kvd lost on vm-a: the connection closed',
    );
    expect(performance.now() - startedAtMs).toBeLessThan(2000);
  });
});
