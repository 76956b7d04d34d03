import { describe, expect, it } from 'vitest';
import { buildApi, type Controller } from '../../../src/daemon/api.js';
import { STATUS_PAGE_CSP } from '../../../src/daemon/page/html.js';
import { createSilentLogger } from '../../../src/log.js';
import { demoOverview } from './page/fixtures.js';

const refuse = () => Promise.reject(new Error('not in this test'));

describe('the control API', () => {
  it('also serves the status page and its overview, reading the controller views', async () => {
    const overview = demoOverview();
    const controller: Controller = {
      status: () => overview.status,
      table: () => overview.table,
      history: () => overview.history,
      failover: refuse,
      inject: refuse,
      requestMemory: refuse,
      metrics: refuse,
      down: refuse,
    };
    const api = buildApi(controller, createSilentLogger());
    try {
      const page = await api.inject({ method: 'GET', url: '/' });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-security-policy']).toBe(STATUS_PAGE_CSP);
      const data = await api.inject({ method: 'GET', url: '/v1/overview' });
      expect(data.json()).toEqual(overview);
      expect((await api.inject({ method: 'GET', url: '/v1/status' })).json()).toEqual(overview.status);
    } finally {
      await api.close();
    }
  });
});
