import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  isBatonError,
  QmpCommandError,
  QmpDisconnectedError,
  WaitTimeoutError,
} from '../../../src/errors.js';
import { createSilentLogger } from '../../../src/log.js';
import type { QmpClient } from '../../../src/qmp/client.js';
import { matchesSubset } from '../../../src/qmp/client.js';
import { connectQmp } from '../../../src/qmp/connect.js';
import { FakeQmpPeer } from '../../fakes/qmp-peer.js';

const log = createSilentLogger();
let peer: FakeQmpPeer;
let client: QmpClient | undefined;

async function connect(setup?: (peer: FakeQmpPeer) => void): Promise<QmpClient> {
  peer = new FakeQmpPeer();
  setup?.(peer);
  await peer.listen();
  client = await connectQmp(peer.socketPath, { vm: 'vm-a', log, timeoutMs: 2000 });
  return client;
}

afterEach(async () => {
  client?.close();
  client = undefined;
  await peer?.close();
});

describe('QmpClient', () => {
  it('negotiates capabilities after the greeting and becomes ready', async () => {
    const qmp = await connect();
    expect(qmp.state).toBe('ready');
    expect(peer.received[0]).toMatchObject({ execute: 'qmp_capabilities' });
    expect(peer.mismatches).toEqual([]);
  });

  it('sends commands with increasing ids and resolves each with its return value', async () => {
    const qmp = await connect((p) =>
      p.expect('query-status', { running: true, status: 'running' }).expect('stop', {}),
    );
    await expect(qmp.execute('query-status')).resolves.toEqual({ running: true, status: 'running' });
    await expect(qmp.execute('stop')).resolves.toEqual({});
    const ids = peer.received.map((m) => m.id);
    expect(ids).toEqual([1, 2, 3]);
  });

  it('rejects with QmpCommandError carrying class, description and vm', async () => {
    const qmp = await connect((p) =>
      p.expectError('device_add', 'GenericError', "Bus 'pcie.0' does not support hotplugging"),
    );
    const error = await qmp.execute('device_add', { driver: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpCommandError);
    expect(error).toMatchObject({
      code: 'QMP_COMMAND_FAILED',
      command: 'device_add',
      errorClass: 'GenericError',
      desc: "Bus 'pcie.0' does not support hotplugging",
      vm: 'vm-a',
      message: "QMP device_add failed on vm-a: Bus 'pcie.0' does not support hotplugging",
    });
  });

  it('rejects every pending command with QmpDisconnectedError when the peer closes', async () => {
    const qmp = await connect((p) => p.expectHang('query-status').expectHang('query-cpus-fast'));
    const first = qmp.execute('query-status').catch((e: unknown) => e);
    const second = qmp.execute('query-cpus-fast').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    peer.disconnect();
    const errors = await Promise.all([first, second]);
    for (const [index, command] of ['query-status', 'query-cpus-fast'].entries()) {
      expect(errors[index]).toBeInstanceOf(QmpDisconnectedError);
      expect(errors[index]).toMatchObject({ code: 'QMP_DISCONNECTED', vm: 'vm-a', command });
    }
    expect(qmp.state).toBe('closed');
    await expect(qmp.execute('query-status')).rejects.toBeInstanceOf(QmpDisconnectedError);
  });

  it('times out a command that gets no reply, naming the command', async () => {
    const qmp = await connect((p) => p.expectHang('query-status'));
    const error = await qmp.execute('query-status', undefined, 100).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as WaitTimeoutError).message).toBe(
      'Timed out after 100 ms waiting for the reply to QMP query-status from vm-a',
    );
  });

  it('drops a reply with an unknown id and still answers the real one', async () => {
    const qmp = await connect((p) => p.expectHang('query-status'));
    const pending = qmp.execute('query-status');
    await new Promise((r) => setTimeout(r, 30));
    peer.sendRaw(JSON.stringify({ return: { bogus: true }, id: 999 }));
    peer.sendRaw(JSON.stringify({ return: { running: false, status: 'paused' }, id: 2 }));
    await expect(pending).resolves.toEqual({ running: false, status: 'paused' });
  });

  it('delivers an event that arrived before the wait from the backlog', async () => {
    const qmp = await connect();
    peer.emitEvent('GUEST_PANICKED', { action: 'pause' });
    await vi.waitFor(() => expect(qmp.events.map((e) => e.event)).toEqual(['GUEST_PANICKED']), {
      timeout: 2000,
    });
    const event = await qmp.waitForEvent('GUEST_PANICKED', undefined, 100);
    expect(event.data).toEqual({ action: 'pause' });
    expect(qmp.events).toEqual([]);
  });

  it('waits for an event matching a sub-object and ignores others', async () => {
    const qmp = await connect();
    peer.emitEvent('MEMORY_DEVICE_SIZE_CHANGE', { id: 'vmem-slot1', size: 1 }, 10);
    peer.emitEvent('MEMORY_DEVICE_SIZE_CHANGE', { id: 'vmem-slot0', size: 2 }, 20);
    const event = await qmp.waitForEvent('MEMORY_DEVICE_SIZE_CHANGE', { id: 'vmem-slot0' }, 1000);
    expect(event.data).toEqual({ id: 'vmem-slot0', size: 2 });
    expect(event.qemuTimestampUs).toBe(1_000_002);
  });

  it('fails an event wait with a timeout that names the event', async () => {
    const qmp = await connect();
    const error = await qmp.waitForEvent('SHUTDOWN', undefined, 50).catch((e: unknown) => e);
    expect(isBatonError(error, 'WAIT_TIMEOUT')).toBe(true);
    expect((error as Error).message).toContain('QMP event SHUTDOWN from vm-a');
  });

  it('fails to connect with a timeout when the peer never greets', async () => {
    peer = new FakeQmpPeer({ sendGreeting: false });
    await peer.listen();
    const error = await connectQmp(peer.socketPath, { vm: 'vm-b', log, timeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as Error).message).toContain(`QMP on ${peer.socketPath} (vm-b)`);
  });
});

describe('matchesSubset', () => {
  it('matches nested sub-objects and rejects differing values', () => {
    expect(matchesSubset({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } })).toBe(true);
    expect(matchesSubset({ a: 1, b: { c: 2 } }, { b: { c: 3 } })).toBe(false);
    expect(matchesSubset({ a: 1 }, { z: undefined })).toBe(true);
    expect(matchesSubset(null, { a: 1 })).toBe(false);
  });
});
