import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi, type Controller, listenOnSocket } from '../../../src/daemon/api.js';
import { type BatonEvent, EventBus } from '../../../src/daemon/events.js';
import { STATUS_PAGE_CSP } from '../../../src/daemon/page/html.js';
import { createSilentLogger } from '../../../src/log.js';
import { fakeController } from '../../helpers/fake-controller.js';
import { demoOverview } from './page/fixtures.js';

const refuse = () => Promise.reject(new Error('not in this test'));

const phaseEvent = (seq: number, phase: string): BatonEvent => ({
  type: 'phase',
  seq,
  at: '2026-12-06T05:00:00.000Z',
  id: 'f1',
  phase,
  app: null,
  state: 'started',
  detail: null,
});

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
      recentEvents: () => [],
      subscribeEvents: () => () => undefined,
      failoverResult: refuse,
      switchover: refuse,
      maintenance: refuse,
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

  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  afterEach(() => {
    process.off('warning', onWarning);
  });

  it('builds without a deprecation warning', async () => {
    process.on('warning', onWarning);
    const app = buildApi(fakeController(new EventBus()), createSilentLogger());
    await app.ready();
    // process.emitWarning delivers on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.map((w) => `${(w as { code?: string }).code}: ${w.message}`)).toEqual([]);
    // A request with cookies goes through light-my-request's cookie encoding (cookie pinned to 1.x).
    const reply = await app.inject({ method: 'GET', url: '/v1/status', cookies: { a: 'b c' } });
    expect(reply.statusCode).toBe(200);
    await app.close();
  });

  it('answers recent events as NDJSON and checks the wait of a failover', async () => {
    const bus = new EventBus();
    bus.publish(phaseEvent(1, 'fence'));
    const app = buildApi(fakeController(bus), createSilentLogger());
    const recent = await app.inject({ method: 'GET', url: '/v1/events' });
    expect(recent.headers['content-type']).toContain('application/x-ndjson');
    expect(
      recent.body
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    ).toEqual([phaseEvent(1, 'fence')]);
    const waited = await app.inject({ method: 'GET', url: '/v1/failovers/f1?waitMs=25' });
    expect(waited.json()).toEqual({ id: 'f1', result: 'running', phase: 'waited 25', record: null });
    const tooLong = await app.inject({ method: 'GET', url: '/v1/failovers/f1?waitMs=600001' });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error.code).toBe('INVALID_INPUT');
    const badId = await app.inject({ method: 'GET', url: '/v1/failovers/..%2Fx' });
    expect(badId.statusCode).toBe(400);
    await app.close();
  });

  it('streams events to a follower until the daemon closes the API', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-api-'));
    const socketPath = join(dir, 'baton.sock');
    const bus = new EventBus();
    const app = buildApi(fakeController(bus), createSilentLogger());
    try {
      await listenOnSocket(app, socketPath);
      const lines: string[] = [];
      let isEnded = false;
      request({ socketPath, path: '/v1/events?follow=1' }, (res) => {
        expect(res.headers['content-type']).toBe('application/x-ndjson');
        let pending = '';
        res.on('data', (chunk: Buffer) => {
          pending += chunk.toString();
          const parts = pending.split('\n');
          pending = parts.pop() ?? '';
          lines.push(...parts);
        });
        res.on('end', () => {
          isEnded = true;
        });
      }).end();
      await expect.poll(() => lines.length, { timeout: 5000 }).toBe(1);
      expect(JSON.parse(lines[0] ?? '')).toMatchObject({ type: 'following', seq: 0 });
      expect(bus.subscriberCount).toBe(1);
      bus.publish(phaseEvent(1, 'fence'));
      bus.publish(phaseEvent(2, 'disk'));
      await expect.poll(() => lines.length, { timeout: 5000 }).toBe(3);
      expect(lines.slice(1).map((l) => JSON.parse(l).phase)).toEqual(['fence', 'disk']);
      // A follower that goes away is unsubscribed.
      const gone = request({ socketPath, path: '/v1/events?follow=true' });
      gone.on('error', () => undefined); // Destroyed on purpose below.
      gone.end();
      await expect.poll(() => bus.subscriberCount, { timeout: 5000 }).toBe(2);
      gone.destroy();
      await expect.poll(() => bus.subscriberCount, { timeout: 5000 }).toBe(1);
      await app.close();
      await expect.poll(() => isEnded, { timeout: 5000 }).toBe(true);
      expect(bus.subscriberCount).toBe(0);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
