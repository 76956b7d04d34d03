// Who called the control API: the peer credentials (SO_PEERCRED) of the unix socket connection.
import type { Socket } from 'node:net';
import type { Logger } from '../log.js';
import { loadNative } from '../native/binding.js';
import type { PeerCredentials } from '../native/types.js';
import type { buildApi } from './api.js';

const byConnection = new WeakMap<Socket, PeerCredentials | null>();

/** The credentials of `socket`'s peer, read once per connection; undefined when they cannot be read. */
export function callerOf(socket: Socket): PeerCredentials | undefined {
  const known = byConnection.get(socket);
  if (known !== undefined) return known ?? undefined;
  let credentials: PeerCredentials | null = null;
  try {
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd === 'number' && fd >= 0) credentials = loadNative().peerCredentials(fd);
  } catch {
    credentials = null;
  }
  byConnection.set(socket, credentials);
  return credentials ?? undefined;
}

/**
 * Records the caller's uid (and pid) of every request that changes something: a log line and,
 * through `record`, a journal event.
 */
export function recordCallers(
  api: ReturnType<typeof buildApi>,
  log: Logger,
  record: (fields: { method: string; url: string; uid: number | null; pid: number | null }) => void,
): void {
  api.addHook('onRequest', async (request) => {
    if (request.method === 'GET') return;
    const caller = callerOf(request.raw.socket);
    const fields = {
      method: request.method,
      url: request.url,
      uid: caller?.uid ?? null,
      pid: caller?.pid ?? null,
    };
    log.info(fields, 'control API call');
    record(fields);
  });
}
