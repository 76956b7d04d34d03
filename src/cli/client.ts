// Talks to the daemon's control API over its unix socket.
import { request } from 'node:http';
import { socketPathOf } from '../daemon/socket-path.js';
import { BatonError } from '../errors.js';

/** The daemon is not running (no socket, or nobody answers on it). */
export class DaemonNotRunningError extends BatonError {
  constructor(stateDir: string) {
    super('DAEMON_NOT_RUNNING', `No baton daemon is running on ${stateDir}: start one with \`baton up\``);
  }
}
DaemonNotRunningError.prototype.name = 'DaemonNotRunningError';

/** The daemon refused or failed a request; `code` is the API's error code. */
export class ApiError extends BatonError {
  readonly status: number;

  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}
ApiError.prototype.name = 'ApiError';

export async function callApi(
  stateDir: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<unknown> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: socketPathOf(stateDir),
        method,
        path,
        timeout: timeoutMs,
        headers:
          payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const isJson = (res.headers['content-type'] ?? '').startsWith('application/json');
          const parsed = isJson && text.length > 0 ? JSON.parse(text) : text;
          if ((res.statusCode ?? 500) >= 400) {
            const error = (parsed as { error?: { code?: string; message?: string } }).error ?? {};
            reject(new ApiError(res.statusCode ?? 500, error.code ?? 'API_ERROR', error.message ?? text));
          } else resolve(parsed);
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`the daemon did not answer ${method} ${path} within ${timeoutMs} ms`)),
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED')
        reject(new DaemonNotRunningError(stateDir));
      else reject(error);
    });
    req.end(payload);
  });
}

/**
 * Reads an NDJSON stream (`GET /v1/events?follow=1`) and calls `onLine` with each whole line;
 * resolves when the daemon ends the stream. No idle timeout: a quiet pair sends nothing.
 */
export async function followApi(
  stateDir: string,
  path: string,
  onLine: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socketPathOf(stateDir), method: 'GET', path }, (res) => {
      if ((res.statusCode ?? 500) >= 400) {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let error: { code?: string; message?: string } = {};
          try {
            error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
          } catch {
            // Not JSON: the text itself is the message below.
          }
          reject(new ApiError(res.statusCode ?? 500, error.code ?? 'API_ERROR', error.message ?? text));
        });
        return;
      }
      let pending = '';
      res.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        for (let newline = pending.indexOf('\n'); newline !== -1; newline = pending.indexOf('\n')) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          if (line !== '') onLine(line);
        }
      });
      res.on('close', () => {
        if (res.complete) resolve();
        else
          reject(
            new BatonError('STREAM_CUT', `The event stream from ${stateDir} broke off: did the daemon die?`),
          );
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED')
        reject(new DaemonNotRunningError(stateDir));
      else reject(error);
    });
    req.end();
  });
}
