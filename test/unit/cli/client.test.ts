// The CLI's API client against a scripted daemon on a unix socket in a private temp folder.
import { mkdtempSync, rmSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, callApi, DaemonNotRunningError, followApi } from '../../../src/cli/client.js';
import { socketPathOf } from '../../../src/daemon/socket-path.js';

let stateDir: string;
const servers: HttpServer[] = [];
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'baton-client-'));
});
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  rmSync(stateDir, { recursive: true, force: true });
});

/** A daemon that answers every request with `handler`; `seen` records method, path and body. */
async function daemon(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const seen: string[] = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${req.headers['content-type'] ?? '-'} ${body}`);
      handler(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socketPathOf(stateDir), resolve));
  return seen;
}

const json = (res: ServerResponse, status: number, value: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(value));

describe('calling the control API', () => {
  it('sends a JSON body and resolves with the JSON answer', async () => {
    const seen = await daemon((_req, res) => json(res, 202, { id: 'f1', joined: false }));
    await expect(callApi(stateDir, 'POST', '/v1/failover', { app: 'kvd' })).resolves.toEqual({
      id: 'f1',
      joined: false,
    });
    await expect(callApi(stateDir, 'GET', '/v1/status')).resolves.toEqual({ id: 'f1', joined: false });
    expect(seen).toEqual(['POST /v1/failover application/json {"app":"kvd"}', 'GET /v1/status - ']);
  });

  it('resolves with the text of an answer that is not JSON', async () => {
    await daemon((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('# HELP x\n'));
    await expect(callApi(stateDir, 'GET', '/metrics')).resolves.toBe('# HELP x\n');
  });

  it('rejects with the API’s status, code and message', async () => {
    await daemon((_req, res) =>
      json(res, 409, { error: { code: 'CONFLICT', message: 'the pair is blocked' } }),
    );
    const error = await callApi(stateDir, 'POST', '/v1/switchover', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, code: 'CONFLICT', message: 'the pair is blocked' });
  });

  it('rejects a failure without an error object with API_ERROR and the body as the message', async () => {
    await daemon((_req, res) => res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway'));
    await expect(callApi(stateDir, 'GET', '/v1/status')).rejects.toMatchObject({
      status: 502,
      code: 'API_ERROR',
      message: 'bad gateway',
    });
  });

  it('says the daemon is not running when there is no socket, or nobody listens on it', async () => {
    const error = await callApi(stateDir, 'GET', '/v1/status').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaemonNotRunningError);
    expect((error as Error).message).toBe(
      `No baton daemon is running on ${stateDir}: start one with \`baton up\``,
    );
    // A socket file left by a daemon that died: connect is refused.
    const server = createNetServer();
    await new Promise<void>((resolve) => server.listen(socketPathOf(stateDir), resolve));
    const { rename } = await import('node:fs/promises');
    await rename(socketPathOf(stateDir), join(stateDir, 'kept.sock'));
    server.close();
    await rename(join(stateDir, 'kept.sock'), socketPathOf(stateDir));
    await expect(callApi(stateDir, 'GET', '/v1/status')).rejects.toMatchObject({
      code: 'DAEMON_NOT_RUNNING',
    });
  });

  it('gives up on a daemon that never answers, naming the request and the wait', async () => {
    await daemon(() => undefined);
    await expect(callApi(stateDir, 'GET', '/v1/status', undefined, 100)).rejects.toThrow(
      'the daemon did not answer GET /v1/status within 100 ms',
    );
  });
});

describe('a daemon that answers badly', () => {
  it('rejects an answer labelled JSON that is not, instead of crashing', async () => {
    await daemon((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"epoch":'));
    await expect(callApi(stateDir, 'GET', '/v1/status')).rejects.toMatchObject({
      code: 'API_ERROR',
      message: "The daemon's answer to GET /v1/status is not valid JSON",
    });
  });

  it('rejects an answer cut off by a daemon that died, instead of waiting forever', async () => {
    await daemon((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"epoch":');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await expect(callApi(stateDir, 'GET', '/v1/status')).rejects.toMatchObject({
      code: 'STREAM_CUT',
      message: "The daemon's answer to GET /v1/status broke off: did it die?",
    });
  });
});

describe('following an event stream', () => {
  it('hands over each whole line, split across chunks, skipping blank lines, until the daemon ends it', async () => {
    await daemon((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"seq":0}\n{"se');
      setTimeout(() => res.end('q":1}\n\n{"seq":2}\n'), 20);
    });
    const lines: string[] = [];
    await followApi(stateDir, '/v1/events?follow=1', (line) => lines.push(line));
    expect(lines).toEqual(['{"seq":0}', '{"seq":1}', '{"seq":2}']);
  });

  it('rejects with the API error of a refused follow, JSON or not', async () => {
    await daemon((req, res) =>
      req.url?.includes('json')
        ? json(res, 400, { error: { code: 'INVALID_INPUT', message: 'Invalid request: follow' } })
        : res.writeHead(500).end('boom'),
    );
    await expect(followApi(stateDir, '/v1/events?json', () => undefined)).rejects.toMatchObject({
      status: 400,
      code: 'INVALID_INPUT',
    });
    await expect(followApi(stateDir, '/v1/events', () => undefined)).rejects.toMatchObject({
      status: 500,
      code: 'API_ERROR',
      message: 'boom',
    });
  });

  it('says the stream broke off when the daemon dies mid-stream', async () => {
    await daemon((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"seq":0}\n');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const lines: string[] = [];
    await expect(
      followApi(stateDir, '/v1/events?follow=1', (line) => lines.push(line)),
    ).rejects.toMatchObject({
      code: 'STREAM_CUT',
      message: `The event stream from ${stateDir} broke off: did the daemon die?`,
    });
    expect(lines).toEqual(['{"seq":0}']);
  });

  it('says the daemon is not running when there is no socket', async () => {
    await expect(followApi(stateDir, '/v1/events?follow=1', () => undefined)).rejects.toBeInstanceOf(
      DaemonNotRunningError,
    );
  });
});
