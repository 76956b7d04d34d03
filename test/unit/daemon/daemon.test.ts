// The daemon's start-up refusals, before any QEMU: a held lock, a live socket (booting the pair is the integration tests' job).
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSocketLive, runDaemon } from '../../../src/daemon/daemon.js';
import { acquireStateLock } from '../../../src/daemon/lock.js';
import { socketPathOf } from '../../../src/daemon/socket-path.js';
import { createSilentLogger } from '../../../src/log.js';
import type { PairConfig } from '../../../src/pair/config.js';

let dir: string;
const servers: Server[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-daemon-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

async function listening(path: string): Promise<Server> {
  const server = createServer((socket) => socket.end());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return server;
}

const start = (stateDir: string, printed: string[] = []) =>
  runDaemon({
    config: { stateDir, apps: [] } as unknown as PairConfig,
    accel: 'tcg',
    log: createSilentLogger(),
    print: (line) => printed.push(line),
  });

describe('the daemon socket', () => {
  it('is live only while something answers on it', async () => {
    const path = socketPathOf(dir);
    expect(await isSocketLive(path)).toBe(false);
    const server = await listening(path);
    expect(await isSocketLive(path)).toBe(true);
    await new Promise((resolve) => server.close(resolve));
    writeFileSync(path, ''); // a file left where a socket was
    expect(await isSocketLive(path)).toBe(false);
  });
});

describe('starting the daemon', () => {
  it('makes the state directory passable by QEMU’s user, and refuses while another daemon holds the lock', async () => {
    const stateDir = join(dir, 'state');
    mkdirSync(stateDir, { mode: 0o700 });
    const other = await acquireStateLock(stateDir);
    await expect(start(stateDir)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `Another baton daemon (pid ${process.pid}) holds the state directory ${stateDir}`,
    });
    expect(existsSync(other.path)).toBe(true); // the holder's lock is left alone
    expect(statSync(stateDir).mode & 0o777).toBe(0o711);
  });

  it('refuses when a daemon already answers on the socket, releases its lock and leaves that socket alone', async () => {
    await listening(socketPathOf(dir));
    const printed: string[] = [];
    await expect(start(dir, printed)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `A daemon already answers on ${socketPathOf(dir)}`,
    });
    expect(printed).toEqual([]); // nothing was started
    const lock = await acquireStateLock(dir);
    await lock.release();
    expect(await isSocketLive(socketPathOf(dir))).toBe(true); // the live daemon's socket is left alone
  });
});
