// PostgreSQL traffic's failure paths through the real node-postgres client (a real server is the integration tests' job).
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresConnector } from '../../../src/traffic/postgres.js';

const servers: Server[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A TCP peer on 127.0.0.1 that does `onConnect` with each connection; `bytes` counts what it got. */
async function peer(onConnect: (socket: Socket) => void) {
  const received = { bytes: 0, connections: 0 };
  const server = createServer((socket) => {
    sockets.add(socket);
    received.connections += 1;
    socket.on('error', () => undefined);
    socket.on('data', (data) => {
      received.bytes += data.length;
    });
    onConnect(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, received };
}

const connect = postgresConnector({ user: 'baton', database: 'baton' });

describe('traffic to PostgreSQL: failures', () => {
  it('rejects when nothing listens', async () => {
    const { port } = await peer(() => undefined);
    await new Promise((resolve) => servers.pop()?.close(resolve));
    await expect(connect(port, 1000)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('rejects a server that never answers the start-up message within the timeout', async () => {
    const server = await peer(() => undefined);
    const startedAtMs = performance.now();
    await expect(connect(server.port, 200)).rejects.toThrow(/timeout/i);
    expect(performance.now() - startedAtMs).toBeLessThan(2000);
    expect(server.received.bytes).toBeGreaterThan(0); // it did send the start-up message
  });

  it('rejects a server that hangs up at once', async () => {
    const server = await peer((socket) => socket.destroy());
    await expect(connect(server.port, 1000)).rejects.toThrow();
    expect(server.received.connections).toBe(1);
  });
});
