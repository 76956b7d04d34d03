import { connect, createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StableEndpoint } from '../../../src/endpoint/proxy.js';
import { createSilentLogger } from '../../../src/log.js';

const servers: Server[] = [];
let endpoint: StableEndpoint | undefined;

/** A backend that answers every line with `<name>:<line>`. */
async function backend(name: string): Promise<number> {
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => socket.write(`${name}:${data}`));
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

function ask(port: number, line: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setEncoding('utf8');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer'));
    }, timeoutMs);
    socket.on('data', (data: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve('(closed)');
    });
    socket.on('error', reject);
    socket.write(line);
  });
}

afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('StableEndpoint', () => {
  it('forwards to the routed VM and follows a re-route', async () => {
    const a = await backend('vm-a');
    const b = await backend('vm-b');
    endpoint = new StableEndpoint({ app: 'kvd', log: createSilentLogger() });
    const port = await endpoint.listen(0);
    endpoint.route({ host: '127.0.0.1', port: a, vm: 'vm-a' });
    expect(await ask(port, 'PING\n')).toBe('vm-a:PING\n');
    endpoint.route({ host: '127.0.0.1', port: b, vm: 'vm-b' });
    expect(await ask(port, 'PING\n')).toBe('vm-b:PING\n');
  });

  it('makes new clients wait while held and serves them once routed', async () => {
    const b = await backend('vm-b');
    endpoint = new StableEndpoint({ app: 'kvd', log: createSilentLogger() });
    const port = await endpoint.listen(0);
    endpoint.hold();
    const waited: number[] = [];
    endpoint.on('connection', ({ waitedMs }) => waited.push(waitedMs));
    const answer = ask(port, 'GET k\n');
    await new Promise((r) => setTimeout(r, 150));
    endpoint.route({ host: '127.0.0.1', port: b, vm: 'vm-b' });
    expect(await answer).toBe('vm-b:GET k\n');
    expect(waited[0]).toBeGreaterThanOrEqual(100);
  });

  it('closes a waiting client after the hold timeout', async () => {
    endpoint = new StableEndpoint({ app: 'kvd', log: createSilentLogger(), holdTimeoutMs: 100 });
    const port = await endpoint.listen(0);
    const refused: string[] = [];
    endpoint.on('refused', ({ reason }) => refused.push(reason));
    expect(await ask(port, 'PING\n')).toBe('(closed)');
    expect(refused).toEqual(['no owner within the hold timeout']);
  });

  it('cuts connections to the old owner when held', async () => {
    const a = await backend('vm-a');
    endpoint = new StableEndpoint({ app: 'kvd', log: createSilentLogger() });
    const port = await endpoint.listen(0);
    endpoint.route({ host: '127.0.0.1', port: a, vm: 'vm-a' });
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const closed = new Promise((r) => socket.once('close', r));
    await new Promise((r) => setTimeout(r, 50));
    endpoint.hold();
    await closed;
    expect(endpoint.currentTarget).toBeUndefined();
  });
});
