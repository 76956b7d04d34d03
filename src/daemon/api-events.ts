// The control API's event routes: recent events, the live NDJSON stream, and waiting for a failover.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { BatonEvent } from './events.js';
import { type FailoverWaitView, MAX_FAILOVER_WAIT_MS } from './failover-wait.js';

export const NDJSON = 'application/x-ndjson';
/** A follower that stopped reading is cut off once this much waits for it. */
export const MAX_PENDING_STREAM_BYTES = 1024 * 1024;

export const eventsQuerySchema = z.strictObject({
  follow: z.enum(['0', '1', 'true', 'false']).optional(),
});
export const failoverParamsSchema = z.strictObject({ id: z.string().regex(/^[0-9a-f-]{1,64}$/) });
export const failoverQuerySchema = z.strictObject({
  waitMs: z.coerce.number().int().min(0).max(MAX_FAILOVER_WAIT_MS).optional(),
});

/** What the event routes need from the daemon. */
export interface EventSource {
  recentEvents(): BatonEvent[];
  subscribeEvents(listener: (event: BatonEvent) => void): () => void;
  failoverResult(id: string, waitMs: number): Promise<FailoverWaitView>;
}

const line = (event: BatonEvent) => `${JSON.stringify(event)}\n`;

export function registerEventRoutes(
  app: FastifyInstance<Server, IncomingMessage, ServerResponse, Logger>,
  source: EventSource,
): void {
  const openStreams = new Set<() => void>();
  app.get('/v1/events', async (request, reply) => {
    const query = eventsQuerySchema.parse(request.query ?? {});
    if (query.follow !== '1' && query.follow !== 'true')
      return reply.type(NDJSON).send(source.recentEvents().map(line).join(''));
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, { 'content-type': NDJSON, 'cache-control': 'no-store' });
    let unsubscribe: () => unknown = () => undefined;
    const end = () => {
      if (!openStreams.delete(end)) return;
      unsubscribe();
      response.end();
    };
    openStreams.add(end);
    response.on('close', end);
    // The first line says the stream is live: a script may act once it has read it.
    response.write(line({ type: 'following', seq: 0, at: new Date().toISOString() }));
    unsubscribe = source.subscribeEvents((event) => {
      if (response.writableLength > MAX_PENDING_STREAM_BYTES) return end();
      response.write(line(event));
    });
  });
  // Streams never end on their own: close them so the server can stop.
  app.addHook('preClose', async () => {
    for (const end of [...openStreams]) end();
  });
  app.get('/v1/failovers/:id', async (request) => {
    const { id } = failoverParamsSchema.parse(request.params);
    const { waitMs } = failoverQuerySchema.parse(request.query ?? {});
    return source.failoverResult(id, waitMs ?? 0);
  });
}
