import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForFirstAnswer } from '../../../src/bench/client-probe.js';
import { findFreePort } from '../../../src/pair/ports.js';

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
});
