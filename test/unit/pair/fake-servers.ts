// Loopback TCP servers standing in for apps behind a VM's host forward; closed after each test.
import { createServer } from 'node:net';
import { onTestFinished } from 'vitest';

/** A loopback TCP server answering PING with PONG, as a healthy app behind a VM's host forward. */
export function startPongServer(): Promise<number> {
  return startLineServer(() => 'PONG\n');
}

/**
 * A loopback TCP server that writes `respond(data)` for each chunk it gets and ends the connection
 * (pieces: each written on a later tick; undefined: it stays silent and keeps the connection open);
 * resolves with its port.
 */
export async function startLineServer(
  respond: (data: string) => string | readonly string[] | undefined,
): Promise<number> {
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    socket.on('data', async (data: string) => {
      const answer = respond(data);
      if (answer === undefined) return;
      for (const piece of typeof answer === 'string' ? [answer] : answer) {
        socket.write(piece);
        await new Promise((resolve) => setImmediate(resolve));
      }
      socket.end();
    });
    socket.on('error', () => undefined);
  });
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}
