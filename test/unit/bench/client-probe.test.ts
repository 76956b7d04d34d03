import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForFirstAnswer } from '../../../src/bench/client-probe.js';
import { findFreePort } from '../../../src/pair/ports.js';
import type { TrafficConnector } from '../../../src/traffic/store.js';

/** A kvd stand-in on loopback: answers every line with `answer`. */
async function serveAnswer(answer: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    socket.on('data', () => socket.write(`${answer}\n`));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? address.port : 0 };
}

describe('waitForFirstAnswer', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  it('does not count right answers until the endpoint is recovered', async () => {
    const served = await serveAnswer('VALUE v-1');
    server = served.server;
    let isRecovered = false;
    const recoveredAtMs = performance.now() + 150;
    setTimeout(() => {
      isRecovered = true;
    }, 150);
    const answeredAtMs = await waitForFirstAnswer({
      port: served.port,
      request: 'GET bench-1',
      expected: 'VALUE v-1',
      isRecovered: () => isRecovered,
      timeoutMs: 5000,
    });
    expect(answeredAtMs).toBeGreaterThanOrEqual(recoveredAtMs - 5);
    expect(answeredAtMs - recoveredAtMs).toBeLessThan(2000);
  });

  it('does not count a wrong answer', async () => {
    const served = await serveAnswer('NOTFOUND');
    server = served.server;
    await expect(
      waitForFirstAnswer({
        port: served.port,
        request: 'GET bench-1',
        expected: 'VALUE v-1',
        isRecovered: () => true,
        timeoutMs: 300,
      }),
    ).rejects.toThrow(/waiting for a right answer to GET bench-1 .*last: NOTFOUND/);
  });

  it('times out with a WAIT_TIMEOUT naming the attempts when nothing listens', async () => {
    const port = await findFreePort();
    await expect(
      waitForFirstAnswer({
        port,
        request: 'PING',
        expected: 'PONG',
        isRecovered: () => true,
        timeoutMs: 200,
      }),
    ).rejects.toMatchObject({ code: 'WAIT_TIMEOUT', message: expect.stringMatching(/\d+ attempts; last: /) });
  });

  it('asks through a real client when given one: a read of the key counts once it holds its value', async () => {
    let reads = 0;
    let closed = 0;
    const connect: TrafficConnector = async () => ({
      write: async () => true,
      read: async (n) => {
        reads += 1;
        if (reads === 1) throw new Error('connection reset');
        return n === 7 && reads >= 3;
      },
      close: () => {
        closed += 1;
      },
    });
    await waitForFirstAnswer({
      connect,
      key: 7,
      port: 1,
      isRecovered: () => true,
      timeoutMs: 5000,
      maxInFlight: 1,
    });
    expect(reads).toBeGreaterThanOrEqual(3);
    expect(closed).toBe(reads);
  });

  it('times out naming the key it read', async () => {
    const connect: TrafficConnector = async () => ({
      write: async () => true,
      read: async () => false,
      close: () => undefined,
    });
    await expect(
      waitForFirstAnswer({ connect, key: 3, port: 1, isRecovered: () => true, timeoutMs: 200 }),
    ).rejects.toThrow(/a right answer to a read of key 3 on 127.0.0.1:1.*a wrong or missing value/);
  });
});
