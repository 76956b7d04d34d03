// The stream's happy path and the wait's bounds are in api.test.ts; here: query checks and a follower that stops reading.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi, listenOnSocket } from '../../../src/daemon/api.js';
import { MAX_PENDING_STREAM_BYTES } from '../../../src/daemon/api-events.js';
import { type BatonEvent, EventBus } from '../../../src/daemon/events.js';
import { createSilentLogger } from '../../../src/log.js';
import { fakeController } from '../../helpers/fake-controller.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const fault = (seq: number, signal = 'hang'): BatonEvent => ({
  type: 'fault',
  seq,
  at: '2026-12-06T05:00:00.000Z',
  vm: 'vm-a',
  signal,
  app: null,
  action: 'failover',
});

describe('the event routes', () => {
  it('answers the recent events for follow=0 and follow=false, and an empty body when there are none', async () => {
    const bus = new EventBus();
    const app = buildApi(fakeController(bus), createSilentLogger());
    expect((await app.inject({ method: 'GET', url: '/v1/events' })).body).toBe('');
    bus.publish(fault(1));
    for (const follow of ['0', 'false']) {
      const reply = await app.inject({ method: 'GET', url: `/v1/events?follow=${follow}` });
      expect(reply.statusCode).toBe(200);
      expect(reply.body).toBe(`${JSON.stringify(fault(1))}\n`);
    }
    await app.close();
  });

  it('refuses an unknown follow value or query key with INVALID_INPUT', async () => {
    const app = buildApi(fakeController(new EventBus()), createSilentLogger());
    for (const url of ['/v1/events?follow=yes', '/v1/events?since=3', '/v1/failovers/f1?waitMs=-1']) {
      const reply = await app.inject({ method: 'GET', url });
      expect(reply.statusCode, url).toBe(400);
      expect(reply.json().error.code).toBe('INVALID_INPUT');
    }
    const long = await app.inject({ method: 'GET', url: `/v1/failovers/${'a'.repeat(65)}` });
    expect(long.statusCode).toBe(400);
    await app.close();
  });

  it('cuts off a follower that stops reading once more than the limit waits for it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-events-'));
    dirs.push(dir);
    const socketPath = join(dir, 'baton.sock');
    const bus = new EventBus();
    const app = buildApi(fakeController(bus), createSilentLogger());
    await listenOnSocket(app, socketPath);
    try {
      const req = request({ socketPath, path: '/v1/events?follow=1' }, (res) => res.pause());
      req.on('error', () => undefined); // The server ends the stream under it on purpose.
      req.end();
      await expect.poll(() => bus.subscriberCount, { timeout: 5000 }).toBe(1);
      // Big events the follower never reads: the socket buffers fill, then the daemon's queue grows.
      const big = 'x'.repeat(64 * 1024);
      let sentBytes = 0;
      for (let seq = 1; bus.subscriberCount > 0 && seq < 20 * 16; seq += 1) {
        bus.publish(fault(seq, big));
        sentBytes += big.length;
      }
      expect(bus.subscriberCount).toBe(0);
      // Cut off past the limit, not long after (the kernel's socket buffers hold the rest).
      expect(sentBytes).toBeGreaterThan(MAX_PENDING_STREAM_BYTES);
      expect(sentBytes).toBeLessThan(MAX_PENDING_STREAM_BYTES + 8 * 1024 * 1024);
      req.destroy();
    } finally {
      await app.close();
    }
  });
});
