import { describe, expect, it } from 'vitest';
import { WaitTimeoutError } from '../../../src/errors.js';
import { pingOnce, waitForHealthy } from '../../../src/pair/health.js';
import { findFreePort } from '../../../src/pair/ports.js';
import { startLineServer, startPongServer } from './fake-pair.js';

describe('pingOnce', () => {
  it('is true when the answer line starts with PONG, and sends PING', async () => {
    const got: string[] = [];
    const port = await startLineServer((data) => {
      got.push(data);
      return 'PONG from kvd\n';
    });
    expect(await pingOnce(port, 1000)).toBe(true);
    expect(got).toEqual(['PING\n']);
  });

  it("sends the app's own probe and expects its own answer", async () => {
    const port = await startLineServer((data) => (data === 'HELLO\n' ? 'READY 1\n' : 'NO\n'));
    expect(await pingOnce(port, 1000, '127.0.0.1', { send: 'HELLO', expect: 'READY' })).toBe(true);
    expect(await pingOnce(port, 1000, '127.0.0.1', { send: 'PING', expect: 'READY' })).toBe(false);
  });

  it('is false for another answer, an answer without a line end, a refused connection, or silence', async () => {
    const wrong = await startLineServer(() => 'ERR busy\n');
    const unfinished = await startLineServer(() => 'PONG');
    const silent = await startLineServer(() => undefined);
    const closed = await findFreePort();
    expect(await pingOnce(wrong, 1000)).toBe(false);
    expect(await pingOnce(unfinished, 1000)).toBe(false);
    expect(await pingOnce(closed, 1000)).toBe(false);
    const startedAtMs = performance.now();
    expect(await pingOnce(silent, 200)).toBe(false);
    expect(performance.now() - startedAtMs).toBeGreaterThanOrEqual(190);
  });

  it('reads an answer that arrives in pieces', async () => {
    const port = await startLineServer(() => ['PO', 'NG', '\n']);
    expect(await pingOnce(port, 1000)).toBe(true);
  });
});

describe('waitForHealthy', () => {
  it('resolves with the time it took once the app answers', async () => {
    const port = await startPongServer();
    const ms = await waitForHealthy(port, { timeoutMs: 2000, what: 'kvd on vm-a' });
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThan(2000);
  });

  it('keeps asking until the app answers', async () => {
    let attempts = 0;
    const port = await startLineServer(() => {
      attempts += 1;
      return attempts < 3 ? 'LOADING\n' : 'PONG\n';
    });
    await waitForHealthy(port, { timeoutMs: 5000, intervalMs: 10, what: 'kvd on vm-a' });
    expect(attempts).toBe(3);
  });

  it('fails after its deadline saying what it waited for, where, and how many attempts it made', async () => {
    const port = await startLineServer(() => 'LOADING\n');
    const error = await waitForHealthy(port, {
      timeoutMs: 300,
      intervalMs: 20,
      what: 'kvd on vm-b',
      send: 'STATUS',
      expect: 'OK',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error).toMatchObject({ code: 'WAIT_TIMEOUT', timeoutMs: 300 });
    expect((error as Error).message).toContain(`kvd on vm-b to answer STATUS on 127.0.0.1:${port}`);
    expect((error as WaitTimeoutError).lastSeen).toMatch(/^\d+ attempts without OK$/);
  });
});
