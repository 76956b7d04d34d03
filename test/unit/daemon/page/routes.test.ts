import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, serveMetrics } from '../../../../src/daemon/metrics.js';
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from '../../../../src/daemon/page/html.js';
import { registerStatusPage } from '../../../../src/daemon/page/routes.js';
import type { Overview } from '../../../../src/daemon/page/shape.js';
import { PACKAGE_ROOT } from '../../../../src/paths.js';
import { dumpDom, findChromium, NO_CHROMIUM_REASON, screenshot } from '../../../helpers/chromium.js';
import { demoOverview } from './fixtures.js';

const viewsOf = (overview: Overview) => ({
  status: () => overview.status,
  table: () => overview.table,
  history: () => overview.history,
});

describe('the status page routes', () => {
  const server = Fastify({ logger: false });
  beforeAll(async () => {
    registerStatusPage(server, viewsOf(demoOverview()));
    await server.ready();
  });
  afterAll(() => server.close());

  it('serves the page at / as HTML with its Content-Security-Policy', async () => {
    const response = await server.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-security-policy']).toBe(STATUS_PAGE_CSP);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toBe(STATUS_PAGE_HTML);
  });

  it('serves the three views at one instant as JSON at /v1/overview', async () => {
    const response = await server.inject({ method: 'GET', url: '/v1/overview' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('application/json');
    expect(response.json()).toEqual(demoOverview());
  });

  it.each([
    ['GET', '/status.html'],
    ['GET', '/v1/overview/x'],
    ['POST', '/'],
    ['DELETE', '/v1/overview'],
  ] as const)('answers 404 to %s %s', async (method, url) => {
    expect((await server.inject({ method, url })).statusCode).toBe(404);
  });
});

describe('the metrics listener', () => {
  it('serves the page next to /metrics only when given the views', async () => {
    const metrics = createMetrics(() => undefined);
    const withPage = await serveMetrics(metrics, { host: '127.0.0.1', port: 0 }, viewsOf(demoOverview()));
    const without = await serveMetrics(metrics, { host: '127.0.0.1', port: 0 });
    try {
      const urlOf = (server: typeof withPage, path: string) => {
        const address = server.server.address();
        return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}${path}`;
      };
      const page = await fetch(urlOf(withPage, '/'));
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toBe(STATUS_PAGE_CSP);
      expect((await fetch(urlOf(withPage, '/metrics'))).status).toBe(200);
      expect((await fetch(urlOf(withPage, '/v1/status'))).status).toBe(404);
      expect((await fetch(urlOf(without, '/'))).status).toBe(404);
      expect((await fetch(urlOf(without, '/v1/overview'))).status).toBe(404);
    } finally {
      await withPage.close();
      await without.close();
    }
  });
});

const chromium = findChromium();
if (chromium === undefined)
  console.log(`skipping the Chromium render of the status page: ${NO_CHROMIUM_REASON}`);

describe.skipIf(chromium === undefined)('the status page in headless Chromium', () => {
  it('runs under its own CSP, redraws on every poll and keeps hostile names as text', {
    timeout: 60_000,
  }, async () => {
    const overview = demoOverview();
    const hostile = '<img src=x onerror="document.title=1">';
    const kvd = overview.status.apps[0];
    if (kvd !== undefined) kvd.name = hostile;
    overview.history[0] = {
      ...(overview.history[0] as Overview['history'][number]),
      trigger: `${hostile} on vm-a`,
    };
    const metrics = createMetrics(() => undefined);
    // Each poll sees a newer table epoch: the page shows the last one it drew.
    let polls = 0;
    const views = { ...viewsOf(overview), table: () => ({ ...overview.table, epoch: ++polls }) };
    const server = await serveMetrics(metrics, { host: '127.0.0.1', port: 0 }, views);
    try {
      const address = server.server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/`;
      const dom = await dumpDom(chromium as string, url, 3500);
      // The script ran (CSP let it) and drew every area; the hostile name is text, not an element.
      expect(dom.match(/data-area="/g)).toHaveLength(6);
      expect(dom).toContain('&lt;img src=x onerror="document.title=1"&gt;');
      expect(dom).not.toMatch(/<img/i);
      expect(dom).toContain('<title>baton status</title>');
      // 3.5 s of page time at one poll a second: the page drew a later answer, not just the first.
      const drawnEpoch = Number(/id="table-summary" class="sub">epoch (\d+): 6 areas/.exec(dom)?.[1]);
      expect(drawnEpoch).toBeGreaterThanOrEqual(3);
      expect(drawnEpoch).toBeLessThanOrEqual(polls);
      const dir = join(PACKAGE_ROOT, 'test-artifacts');
      mkdirSync(dir, { recursive: true });
      await screenshot(chromium as string, url, join(dir, 'status-page-fixture.png'));
    } finally {
      await server.close();
    }
  });
});
