import { afterEach, describe, expect, it } from 'vitest';
import { buildApi, type Controller } from '../../../src/daemon/api.js';
import { createSilentLogger } from '../../../src/log.js';

const fakeController = (): Controller => ({
  status: () => ({ epoch: 1, state: 'protected', blocked: false, blockedReason: null, vms: [], apps: [] }),
  table: () => ({ epoch: 1, budgetBytes: 0, areas: [] }),
  history: () => [],
  failover: async () => ({ id: 'f1', joined: false }),
  inject: async () => undefined,
  requestMemory: async () => ({ grantedBytes: 0, epoch: 1 }),
  metrics: async () => ({ contentType: 'text/plain', text: '' }),
  down: async () => undefined,
});

describe('the control API', () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  afterEach(() => {
    process.off('warning', onWarning);
  });

  it('builds without a deprecation warning', async () => {
    process.on('warning', onWarning);
    const app = buildApi(fakeController(), createSilentLogger());
    await app.ready();
    // process.emitWarning delivers on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.map((w) => `${(w as { code?: string }).code}: ${w.message}`)).toEqual([]);
    // A request with cookies goes through light-my-request's cookie encoding (cookie pinned to 1.x).
    const reply = await app.inject({ method: 'GET', url: '/v1/status', cookies: { a: 'b c' } });
    expect(reply.statusCode).toBe(200);
    await app.close();
  });
});
