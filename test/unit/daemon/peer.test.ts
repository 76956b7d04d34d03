import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi, listenOnSocket } from '../../../src/daemon/api.js';
import { EventBus } from '../../../src/daemon/events.js';
import { callerOf, recordCallers } from '../../../src/daemon/peer.js';
import { createSilentLogger } from '../../../src/log.js';
import { fakeController } from '../../helpers/fake-controller.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function call(socketPath: string, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, method, path, headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(method === 'GET' ? undefined : '{}');
  });
}

describe('the control API caller', () => {
  it('records the uid and pid of every call that changes something, never of a GET', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-peer-'));
    dirs.push(dir);
    const socketPath = join(dir, 'baton.sock');
    const api = buildApi(fakeController(new EventBus()), createSilentLogger());
    const recorded: unknown[] = [];
    recordCallers(api, createSilentLogger(), (fields) => recorded.push(fields));
    await listenOnSocket(api, socketPath);
    try {
      expect(await call(socketPath, 'GET', '/v1/status')).toBe(200);
      expect(recorded).toEqual([]);
      await call(socketPath, 'POST', '/v1/switchover');
      // The caller is this very process, over the unix socket.
      expect(recorded).toEqual([
        { method: 'POST', url: '/v1/switchover', uid: process.getuid?.(), pid: process.pid },
      ]);
    } finally {
      await api.close();
    }
  });

  it('a socket with no file descriptor has no caller, and is asked only once', () => {
    const socket = new Socket();
    expect(callerOf(socket)).toBeUndefined();
    expect(callerOf(socket)).toBeUndefined();
  });
});
