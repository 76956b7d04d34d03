// App health check over TCP: a line (`PING`) answered by one that starts with the expected text (`PONG`), retried until a deadline.
import { connect } from 'node:net';
import { WaitTimeoutError } from '../errors.js';

/** One attempt: resolves true when the server's answer line starts with `expect` (default PONG) within `timeoutMs`. */
export function pingOnce(
  port: number,
  timeoutMs: number,
  host = '127.0.0.1',
  probe: { send?: string; expect?: string } = {},
): Promise<boolean> {
  const send = `${probe.send ?? 'PING'}\n`;
  const expect = probe.expect ?? 'PONG';
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
    socket.on('connect', () => socket.write(send));
    socket.on('data', (data: string) => {
      answer += data;
      if (answer.includes('\n')) finish(answer.trim().startsWith(expect));
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

/** Retries PING every `intervalMs` until PONG; WaitTimeoutError after `timeoutMs`. */
export async function waitForHealthy(
  port: number,
  options: { timeoutMs: number; intervalMs?: number; what: string; send?: string; expect?: string },
): Promise<number> {
  const probe = {
    ...(options.send === undefined ? {} : { send: options.send }),
    ...(options.expect === undefined ? {} : { expect: options.expect }),
  };
  const startedAtMs = performance.now();
  let attempts = 0;
  while (performance.now() - startedAtMs < options.timeoutMs) {
    attempts += 1;
    if (await pingOnce(port, 1000, '127.0.0.1', probe)) return performance.now() - startedAtMs;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
  throw new WaitTimeoutError({
    waitedFor: `${options.what} to answer ${options.send ?? 'PING'} on 127.0.0.1:${port}`,
    timeoutMs: options.timeoutMs,
    lastSeen: `${attempts} attempts without ${options.expect ?? 'PONG'}`,
  });
}
