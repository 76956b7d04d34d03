import { describe, expect, it } from 'vitest';
import { AgentError, AppMoveRefusedError } from '../../../src/errors.js';
import { diskPortOf, freeRootPort, stopApp } from '../../../src/pair/vm-actions.js';
import { fakeVm } from './fake-pair.js';

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
