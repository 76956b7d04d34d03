import { describe, expect, it } from 'vitest';
import {
  AgentError,
  AppMoveRefusedError,
  QmpCommandError,
  QmpDisconnectedError,
} from '../../../src/errors.js';
import type { DataDisk } from '../../../src/pair/disk.js';
import { attachDiskAgain, diskPortOf, freeRootPort, stopApp } from '../../../src/pair/vm-actions.js';
import { fakeVm, fakeVmFailing } from './fake-pair.js';

describe('freeRootPort and diskPortOf', () => {
  it('takes the highest empty spare port', async () => {
    expect(await freeRootPort(fakeVm('vm-b').vm, 'kvd')).toBe(1);
    expect(await freeRootPort(fakeVm('vm-b', { occupied: { 'rp-spare1': ['blk-x'] } }).vm, 'kvd')).toBe(0);
  });

  it('refuses when every spare port is taken, saying how many there are', async () => {
    const vm = fakeVm('vm-b', { occupied: { 'rp-spare0': ['a'], 'rp-spare1': ['b'] } }).vm;
    const error = await freeRootPort(vm, 'kvd').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppMoveRefusedError);
    expect((error as Error).message).toBe(
      'Cannot move kvd to vm-b: no free root port for its data disk (2 spare ports, none empty)',
    );
  });

  it('finds the port that holds the app disk already before looking for a free one', async () => {
    expect(await diskPortOf(fakeVm('vm-b', { occupied: { 'rp-spare0': ['blk-kvd'] } }).vm, 'kvd')).toBe(0);
    expect(await diskPortOf(fakeVm('vm-b', { occupied: { 'rp-spare0': ['blk-x'] } }).vm, 'kvd')).toBe(1);
  });
});

describe('stopApp', () => {
  it('counts an app that is not running as stopped, and passes other agent errors on', async () => {
    const fake = fakeVm('vm-a');
    fake.onAppStop = async () => {
      throw new AgentError({ vm: 'vm-a', agentCode: 'not-running', message: 'not running' });
    };
    await expect(stopApp(fake.vm, 'kvd')).resolves.toBeUndefined();
    fake.onAppStop = async () => {
      throw new AgentError({ vm: 'vm-a', agentCode: 'internal', message: 'kill failed' });
    };
    await expect(stopApp(fake.vm, 'kvd')).rejects.toThrow('kill failed');
  });
});

describe('attachDiskAgain', () => {
  const disk = { app: 'kvd', path: '/state/disks/kvd.img', serial: 'baton-kvd' } as DataDisk;
  /** QEMU's refusal of a duplicate, as 7.2 words it (GenericError, like any other failure). */
  const duplicate = (command: string) =>
    new QmpCommandError({ command, errorClass: 'GenericError', desc: 'Duplicate nodes', vm: 'vm-b' });

  /** vm-b, whose blockdev-add and device_add fail with `failures` (when given); QEMU holds `nodes` and `occupied` ports. */
  const vmWith = (
    failures: Record<string, Error>,
    nodes: string[],
    occupied: Record<string, string[]> = {},
  ) => fakeVmFailing('vm-b', failures, nodes, occupied);

  it('adds the node and the device when neither is there', async () => {
    const fake = vmWith({}, []);
    await attachDiskAgain(fake.vm, disk, 1);
    expect(fake.calls).toEqual([
      'qmp blockdev-add node-name=disk-kvd',
      'qmp device_add id=blk-kvd bus=rp-spare1',
    ]);
  });

  it('counts a node QEMU reports as added, and a device on a root port as attached (a redo after a crash)', async () => {
    const fake = vmWith({ 'blockdev-add': duplicate('blockdev-add') }, ['disk-kvd-file', 'disk-kvd']);
    await attachDiskAgain(fake.vm, disk, 0);
    expect(fake.calls).toEqual([
      'qmp blockdev-add node-name=disk-kvd',
      'qmp query-named-block-nodes',
      'qmp device_add id=blk-kvd bus=rp-spare0',
    ]);
    const both = vmWith(
      { 'blockdev-add': duplicate('blockdev-add'), device_add: duplicate('device_add') },
      ['disk-kvd'],
      { 'rp-spare0': ['blk-kvd'] },
    );
    await expect(attachDiskAgain(both.vm, disk, 0)).resolves.toBeUndefined();
    expect(both.calls.at(-1)).toBe('qmp query-pci');
  });

  it('passes a refusal on when QEMU does not have what it refused to add again', async () => {
    const denied = new QmpCommandError({
      command: 'blockdev-add',
      errorClass: 'GenericError',
      desc: "Could not open '/state/disks/kvd.img': Permission denied",
      vm: 'vm-b',
    });
    await expect(attachDiskAgain(vmWith({ 'blockdev-add': denied }, []).vm, disk, 0)).rejects.toBe(denied);
    const busy = duplicate('device_add');
    const elsewhere = vmWith({ device_add: busy }, ['disk-kvd'], { 'rp-spare0': ['blk-other'] });
    await expect(attachDiskAgain(elsewhere.vm, disk, 0)).rejects.toBe(busy);
  });

  it('passes a lost connection on without asking QEMU anything more', async () => {
    const lost = new QmpDisconnectedError({ vm: 'vm-b', command: 'blockdev-add' });
    const fake = vmWith({ 'blockdev-add': lost }, ['disk-kvd']);
    await expect(attachDiskAgain(fake.vm, disk, 0)).rejects.toBe(lost);
    expect(fake.calls).toEqual(['qmp blockdev-add node-name=disk-kvd']);
  });
});
