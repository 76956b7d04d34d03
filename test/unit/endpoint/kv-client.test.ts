import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KvClient } from '../../../src/endpoint/kv-client.js';
import { startLinePeer } from '../../fakes/line-peer.js';

const clients: KvClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

async function connected(answer: Parameters<typeof startLinePeer>[0]) {
  const peer = await startLinePeer(answer);
  const client = await KvClient.connect(peer.port, 2000);
  clients.push(client);
  return { peer, client };
}

/** A port nothing listens on: one the OS gave and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

describe('the kvd line client', () => {
  it('answers requests in order, one line each, stripping a CR', async () => {
    const { client, peer } = await connected((line) => (line === 'PING' ? 'PONG\r' : `ECHO ${line}`));
    const answers = await Promise.all([
      client.request('PING'),
      client.request('GET a'),
      client.request('SET a 1'),
    ]);
    expect(answers).toEqual(['PONG', 'ECHO GET a', 'ECHO SET a 1']);
    expect(peer.received).toEqual(['PING', 'GET a', 'SET a 1']);
  });

  it('pairs answers split across packets, or several in one, with their requests', async () => {
    const { client } = await connected((line, socket) => {
      if (line === 'first') {
        socket.write('ON');
        setTimeout(() => socket.write('E\n'), 20);
      }
      if (line === 'third') setTimeout(() => socket.write('TWO\nTHREE\n'), 60);
      return undefined;
    });
    const answers = Promise.all([client.request('first'), client.request('second'), client.request('third')]);
    await expect(answers).resolves.toEqual(['ONE', 'TWO', 'THREE']);
  });

  it('resolves pending requests with undefined when kvd closes the connection', async () => {
    const { client } = await connected((_line, socket) => void socket.destroy());
    await expect(client.request('GET a')).resolves.toBeUndefined();
  });

  it('answers a request made after kvd closed the connection with undefined at once, not at the timeout', async () => {
    const { client } = await connected((_line, socket) => void socket.destroy());
    await expect(client.request('PING')).resolves.toBeUndefined();
    const startedAtMs = performance.now();
    await expect(client.request('PING', 5000)).resolves.toBeUndefined();
    expect(performance.now() - startedAtMs).toBeLessThan(1000);
  });

  it('times out a request kvd answers late, naming it; the late answer does not go to the next request', async () => {
    // kvd answers in order: the late answer to `slow` comes before the answer to `next`.
    const { client } = await connected((line, socket) => {
      setTimeout(() => socket.write(line === 'slow' ? 'SLOW\n' : 'NEXT\n'), line === 'slow' ? 100 : 150);
      return undefined;
    });
    await expect(client.request('slow', 30)).rejects.toMatchObject({
      code: 'WAIT_TIMEOUT',
      message: "Timed out after 30 ms waiting for kvd's answer to slow",
    });
    await expect(client.request('next')).resolves.toBe('NEXT');
  });

  it('rejects a connection to a port nobody listens on', async () => {
    await expect(KvClient.connect(await closedPort(), 2000)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
