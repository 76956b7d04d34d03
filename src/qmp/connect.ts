// Opens a QMP unix socket and returns a negotiated client.
import { connect } from 'node:net';
import { WaitTimeoutError } from '../errors.js';
import type { Logger } from '../log.js';
import { QmpClient } from './client.js';
import { JsonLines } from './framing.js';

/**
 * Connects to QEMU's QMP socket, retrying until it exists and accepts, then negotiates.
 * Throws WaitTimeoutError naming the socket when QEMU never answers within `timeoutMs`.
 */
export async function connectQmp(
  socketPath: string,
  options: { vm: string; log: Logger; timeoutMs: number; isAlive?: () => boolean },
): Promise<QmpClient> {
  const deadline = performance.now() + options.timeoutMs;
  let lastError: Error | undefined;
  while (performance.now() < deadline) {
    if (options.isAlive !== undefined && !options.isAlive()) break;
    try {
      const socket = await openSocket(socketPath);
      const client = new QmpClient(new JsonLines(socket), { vm: options.vm, log: options.log });
      await client.negotiate(Math.max(1000, deadline - performance.now()));
      return client;
    } catch (error) {
      lastError = error as Error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new WaitTimeoutError({
    waitedFor: `QMP on ${socketPath} (${options.vm})`,
    timeoutMs: options.timeoutMs,
    ...(lastError === undefined ? {} : { lastSeen: lastError.message }),
  });
}

function openSocket(socketPath: string): Promise<import('node:net').Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}
