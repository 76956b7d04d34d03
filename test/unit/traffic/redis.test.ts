// Redis traffic through the real ioredis client against a scripted RESP peer on 127.0.0.1.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis } from '../../../src/traffic/redis.js';
import type { TrafficStore } from '../../../src/traffic/store.js';

const servers: Server[] = [];
const sockets = new Set<Socket>();
const stores: TrafficStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) store.close();
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;

/** Commands (arrays of bulk strings) from `buffer`; returns them and the unparsed rest. */
function parseCommands(buffer: string): { commands: string[][]; rest: string } {
  const commands: string[][] = [];
  let rest = buffer;
  for (;;) {
    const lines = rest.split('\r\n');
    const count = Number(lines[0]?.slice(1));
    if (!lines[0]?.startsWith('*') || lines.length < 1 + 2 * count) return { commands, rest };
    const words = Array.from({ length: count }, (_, i) => lines[2 + 2 * i] ?? '');
    commands.push(words);
    rest = lines.slice(1 + 2 * count).join('\r\n');
  }
}

/** A Redis stand-in: INFO says ready, SET stores (or `onSet` answers), GET reads; `seen` lists the commands. */
async function fakeRedis(onSet?: (socket: Socket) => string | undefined) {
  const values = new Map<string, string>();
  const seen: string[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (data) => {
      const parsed = parseCommands(buffered + data.toString('utf8'));
      buffered = parsed.rest;
      for (const [name = '', key = '', value = ''] of parsed.commands) {
        const command = name.toUpperCase();
        seen.push([command, key, value].filter(Boolean).join(' '));
        if (command === 'INFO') socket.write(bulk('# Server\r\nloading:0\r\n'));
        else if (command === 'SET') {
          const answer = onSet?.(socket);
          if (answer === undefined && onSet !== undefined) continue;
          values.set(key, value);
          socket.write(answer ?? '+OK\r\n');
        } else if (command === 'GET') socket.write(values.has(key) ? bulk(values.get(key) ?? '') : '$-1\r\n');
        else socket.write(`-ERR unknown command '${name}'\r\n`);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, seen };
}

async function connect(port: number, timeoutMs = 500): Promise<TrafficStore> {
  const store = await connectRedis(port, timeoutMs);
  stores.push(store);
  return store;
}

describe('traffic to Redis', () => {
  it('writes traffic-<n> with SET and reads it back with GET', async () => {
    const redis = await fakeRedis();
    const store = await connect(redis.port);
    expect(await store.write(5)).toBe(true);
    expect(await store.read(5)).toBe(true);
    expect(await store.read(6)).toBe(false);
    expect(redis.seen.filter((c) => /^(SET|GET) /.test(c))).toEqual([
      'SET traffic-5 5',
      'GET traffic-5',
      'GET traffic-6',
    ]);
  });

  it('a SET Redis refuses is not acknowledged (it throws, for the loop to count)', async () => {
    const redis = await fakeRedis(() => '-OOM command not allowed\r\n');
    const store = await connect(redis.port);
    await expect(store.write(1)).rejects.toThrow(/OOM/);
  });

  it('a SET Redis never answers times out within the connector’s timeout, and is not resent', async () => {
    const redis = await fakeRedis(() => undefined);
    const store = await connect(redis.port, 200);
    await expect(store.write(1)).rejects.toThrow(/timed out/i);
    expect(redis.seen.filter((c) => c.startsWith('SET'))).toEqual(['SET traffic-1 1']);
  });

  it('a SET on a connection Redis closed fails at once instead of queueing for a reconnect', async () => {
    const redis = await fakeRedis((socket) => void socket.destroy());
    const store = await connect(redis.port);
    await expect(store.write(1)).rejects.toThrow();
    const startedAtMs = performance.now();
    await expect(store.write(2)).rejects.toThrow();
    expect(performance.now() - startedAtMs).toBeLessThan(400);
    expect(redis.seen.filter((c) => c.startsWith('SET'))).toEqual(['SET traffic-1 1']);
  });

  it('rejects when nothing listens, without retrying', async () => {
    const redis = await fakeRedis();
    await new Promise((resolve) => servers.pop()?.close(resolve));
    await expect(connectRedis(redis.port, 300)).rejects.toThrow(/ECONNREFUSED|Connection is closed/);
  });
});
