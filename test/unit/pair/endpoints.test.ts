import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { StableEndpoint } from '../../../src/endpoint/proxy.js';
import { createSilentLogger } from '../../../src/log.js';
import type { AppConfig } from '../../../src/pair/config.js';
import { openEndpoint } from '../../../src/pair/endpoints.js';
import { pingOnce } from '../../../src/pair/health.js';
import { findFreePort } from '../../../src/pair/ports.js';
import { startPongServer } from './fake-pair.js';

const opened: StableEndpoint[] = [];
const blockers: Server[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((e) => e.close()));
  await Promise.all(blockers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const log = createSilentLogger();
const app = (endpointPort: number) => ({ name: 'kvd', endpointPort }) as AppConfig;

async function open(endpointPort: number, preferred: number | undefined): Promise<StableEndpoint> {
  const endpoint = await openEndpoint(app(endpointPort), log, preferred);
  opened.push(endpoint);
  return endpoint;
}

/** Takes `port` on 127.0.0.1, as another program would. */
async function occupy(port: number): Promise<void> {
  const server = createServer();
  blockers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}

describe('openEndpoint', () => {
  it('listens on the port a previous daemon used when it is free', async () => {
    const [preferred, configured] = [await findFreePort(), await findFreePort()];
    expect((await open(configured, preferred)).port).toBe(preferred);
  });

  it('falls back to the configured port when the previous one is taken', async () => {
    const [preferred, configured] = [await findFreePort(), await findFreePort()];
    await occupy(preferred);
    expect((await open(configured, preferred)).port).toBe(configured);
  });

  it('listens on the configured port with no previous one (none recorded, or 0)', async () => {
    const configured = await findFreePort();
    expect((await open(configured, undefined)).port).toBe(configured);
    await opened.splice(0)[0]?.close();
    expect((await open(configured, 0)).port).toBe(configured);
  });

  it('fails with the bind error when the configured port is taken too', async () => {
    const [preferred, configured] = [await findFreePort(), await findFreePort()];
    await occupy(preferred);
    await occupy(configured);
    await expect(openEndpoint(app(configured), log, preferred)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('opens held: a client waits until the app is placed, then reaches it', async () => {
    const endpoint = await open(0, undefined);
    expect(endpoint.currentTarget).toBeUndefined();
    const answer = pingOnce(endpoint.port, 5000);
    const appPort = await startPongServer();
    endpoint.route({ host: '127.0.0.1', port: appPort, vm: 'vm-a' });
    expect(await answer).toBe(true);
  });
});
