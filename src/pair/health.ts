// App health check over TCP: `PING` answered by `PONG`, retried until a deadline.
import { connect } from 'node:net';
import { WaitTimeoutError } from '../errors.js';

/** One attempt: resolves true when the server answers PONG within `timeoutMs`. */
export function pingOnce(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    let answer = '';
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('PING\n'));
    socket.on('data', (data: string) => {
      answer += data;
      if (answer.includes('\n')) finish(answer.trim() === 'PONG');
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

/** Retries PING every `intervalMs` until PONG; WaitTimeoutError after `timeoutMs`. */
export async function waitForHealthy(
  port: number,
  options: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<number> {
  const startedAtMs = performance.now();
  let attempts = 0;
  while (performance.now() - startedAtMs < options.timeoutMs) {
    attempts += 1;
    if (await pingOnce(port, 1000)) return performance.now() - startedAtMs;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
  throw new WaitTimeoutError({
    waitedFor: `${options.what} to answer PING on 127.0.0.1:${port}`,
    timeoutMs: options.timeoutMs,
    lastSeen: `${attempts} attempts without PONG`,
  });
}
