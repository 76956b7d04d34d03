// connectQmp against a peer that never greets is in client.test.ts; here the retries and the give-ups.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WaitTimeoutError } from '../../../src/errors.js';
import { createSilentLogger } from '../../../src/log.js';
import type { QmpClient } from '../../../src/qmp/client.js';
import { connectQmp } from '../../../src/qmp/connect.js';
import { FakeQmpPeer } from '../../fakes/qmp-peer.js';

const log = createSilentLogger();
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function privateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-qmp-connect-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('connecting to QMP', () => {
  it('retries until QEMU creates its socket, then negotiates', async () => {
    const peer = new FakeQmpPeer();
    cleanups.push(() => peer.close());
    const connecting = connectQmp(peer.socketPath, { vm: 'vm-a', log, timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await peer.listen();
    const client: QmpClient = await connecting;
    cleanups.push(() => client.close());
    expect(client.state).toBe('ready');
    expect(peer.received.map((m) => m.execute)).toEqual(['qmp_capabilities']);
  });

  it('gives up at the deadline when the socket never appears, with the last error and the VM', async () => {
    const path = join(privateDir(), 'qmp.sock');
    const started = performance.now();
    const error = await connectQmp(path, { vm: 'vm-b', log, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as Error).message).toBe(
      `Timed out after 200 ms waiting for QMP on ${path} (vm-b); last seen: connect ENOENT ${path}`,
    );
  });

  it('stops at once when QEMU is no longer alive, without waiting out the deadline', async () => {
    const path = join(privateDir(), 'qmp.sock');
    let attempts = 0;
    const isAlive = () => {
      attempts += 1;
      return attempts <= 2;
    };
    const started = performance.now();
    const error = await connectQmp(path, { vm: 'vm-a', log, timeoutMs: 10_000, isAlive }).catch(
      (e: unknown) => e,
    );
    expect(performance.now() - started).toBeLessThan(2000);
    expect(error).toMatchObject({ code: 'WAIT_TIMEOUT', lastSeen: `connect ENOENT ${path}` });
    const never = await connectQmp(path, { vm: 'vm-a', log, timeoutMs: 10_000, isAlive: () => false }).catch(
      (e: unknown) => e,
    );
    expect(never).toMatchObject({ code: 'WAIT_TIMEOUT', lastSeen: undefined });
  });

  it('names the refusal when a plain file, not a listening socket, sits at the path', async () => {
    const path = join(privateDir(), 'qmp.sock');
    writeFileSync(path, 'not a socket');
    const error = await connectQmp(path, { vm: 'vm-a', log, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WAIT_TIMEOUT', lastSeen: `connect ECONNREFUSED ${path}` });
  });
});
