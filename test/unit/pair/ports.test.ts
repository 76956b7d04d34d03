import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FORWARD_PORT_MIN, findFreePort } from '../../../src/pair/ports.js';

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    servers.push(server);
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

describe('findFreePort', () => {
  it('picks a port below the ephemeral range that can be bound', async () => {
    const port = await findFreePort();
    expect(port).toBeGreaterThanOrEqual(FORWARD_PORT_MIN);
    expect(port).toBeLessThan(32_768);
    expect(await listenOn(port)).toBe(port);
  });

  it('skips a port that is taken and tries another', async () => {
    const taken = await listenOn(0);
    // The first draw lands on a taken port, the second on the minimum (taken here too), then 0.5.
    const draws = [(taken - FORWARD_PORT_MIN) / (32_767 - FORWARD_PORT_MIN + 1), 0];
    await listenOn(FORWARD_PORT_MIN).catch(() => undefined); // Taken by us, or by someone else.
    const port = await findFreePort(() => draws.shift() ?? 0.5);
    expect(port).not.toBe(taken);
    expect(port).not.toBe(FORWARD_PORT_MIN);
    expect(await listenOn(port)).toBe(port);
  });

  it('never hands out the same port twice, even when it is still free (two VMs picking at once)', async () => {
    const sameDraw = () => 0.25;
    const [first, second] = await Promise.all([findFreePort(sameDraw), findFreePort(sameDraw)]);
    expect(first).not.toBe(second);
    expect(await findFreePort(sameDraw)).not.toBe(first);
  });
});
