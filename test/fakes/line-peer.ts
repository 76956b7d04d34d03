// A TCP peer on 127.0.0.1 that answers each request line with whatever `answer` returns (nothing: stay silent); closed after each test.
import { createServer, type Server, type Socket } from 'node:net';
import { onTestFinished } from 'vitest';

export interface LinePeer {
  port: number;
  /** Every request line received, in order. */
  received: string[];
  /** Closes every connection and the server. */
  close(): Promise<void>;
}

/** `answer` may return a line, several lines at once (joined with \n), or undefined for no answer. */
export async function startLinePeer(
  answer: (line: string, socket: Socket) => string | undefined,
): Promise<LinePeer> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setEncoding('utf8');
    let buffered = '';
    socket.on('data', (data: string) => {
      buffered += data;
      for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        received.push(line);
        const reply = answer(line, socket);
        if (reply !== undefined && !socket.destroyed) socket.write(`${reply}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const peer: LinePeer = {
    port,
    received,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
  onTestFinished(() => peer.close());
  return peer;
}

/** Answers like the demo app kvd: SET k v → OK, GET k → VALUE v or NOT_FOUND, PING → PONG. */
export function kvdAnswer(): (line: string) => string | undefined {
  const values = new Map<string, string>();
  return (line) => {
    const [command, key = '', value = ''] = line.split(' ');
    if (command === 'PING') return 'PONG';
    if (command === 'SET') {
      values.set(key, value);
      return 'OK';
    }
    if (command === 'GET') return values.has(key) ? `VALUE ${values.get(key)}` : 'NOT_FOUND';
    return 'ERR unknown command';
  };
}
