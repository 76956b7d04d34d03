// The control API: HTTP + JSON on a unix socket (0600), schema-checked bodies with a size cap.
import { chmod, rm } from 'node:fs/promises';
import Fastify, { LogController } from 'fastify';
import { z } from 'zod';
import { isBatonError } from '../errors.js';
import type { Logger } from '../log.js';
import { parseSizeBytes } from '../units.js';
import { type EventSource, registerEventRoutes } from './api-events.js';
import { registerStatusPage } from './page/routes.js';
import type { HistoryView, MaintenanceView, StatusView, TableView } from './views.js';

export const API_BODY_LIMIT_BYTES = 16 * 1024;

export const failoverBodySchema = z.strictObject({
  app: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/)
    .optional(),
});
export const injectBodySchema = z.strictObject({
  fault: z.enum(['panic', 'hang', 'app-crash', 'app-hang', 'app-fail']),
  app: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/)
    .optional(),
});
export const requestBodySchema = z.strictObject({
  app: z.string().regex(/^[a-z0-9-]{1,32}$/),
  memory: z.union([z.string().max(32), z.number().int().nonnegative()]),
});

export const maintenanceBodySchema = z.strictObject({ on: z.boolean() });

/** What the API needs from the daemon; the API itself holds no state. */
export interface Controller extends EventSource {
  status(): StatusView;
  table(): TableView;
  history(): HistoryView;
  failover(request: z.infer<typeof failoverBodySchema>): Promise<{ id: string; joined: boolean }>;
  /** Starts a planned switchover; refusals throw ConflictError (409) before anything changes. */
  switchover(): Promise<{ id: string }>;
  maintenance(request: z.infer<typeof maintenanceBodySchema>): Promise<MaintenanceView>;
  inject(request: z.infer<typeof injectBodySchema>): Promise<void>;
  requestMemory(request: { app: string; bytes: number }): Promise<{ grantedBytes: number; epoch: number }>;
  metrics(): Promise<{ contentType: string; text: string }>;
  down(): Promise<void>;
}

const STATUS_BY_CODE: Record<string, number> = {
  INVALID_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TABLE_REQUEST_REFUSED: 409,
  MEMORY_REQUEST_REFUSED: 409,
  APP_MOVE_REFUSED: 409,
};

export function buildApi(controller: Controller, log: Logger) {
  const app = Fastify({
    bodyLimit: API_BODY_LIMIT_BYTES,
    loggerInstance: log.child({ component: 'api' }),
    // Calls that change something are logged by recordCallers (peer.ts); the top-level
    // `disableRequestLogging` option is deprecated in Fastify 5 (FSTDEP023) in favour of this.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.setErrorHandler((error, _request, reply) => {
    const fastifyCode = (error as { code?: string }).code;
    if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({
        error: { code: 'BODY_TOO_LARGE', message: `Request body over ${API_BODY_LIMIT_BYTES} bytes` },
      });
    }
    if (error instanceof z.ZodError) {
      const issue = error.issues[0];
      const message = `Invalid request: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`;
      return reply.code(400).send({ error: { code: 'INVALID_INPUT', message } });
    }
    if (
      (error as { statusCode?: number }).statusCode === 400 ||
      (error as { statusCode?: number }).statusCode === 415
    ) {
      return reply
        .code(400)
        .send({ error: { code: 'INVALID_INPUT', message: `Invalid request: ${(error as Error).message}` } });
    }
    if (isBatonError(error)) {
      return reply
        .code(STATUS_BY_CODE[error.code] ?? 500)
        .send({ error: { code: error.code, message: error.message } });
    }
    log.error({ err: error }, 'control API request failed');
    return reply.code(500).send({ error: { code: 'INTERNAL', message: (error as Error).message } });
  });
  app.get('/v1/status', async () => controller.status());
  app.get('/v1/table', async () => controller.table());
  app.get('/v1/history', async () => controller.history());
  app.post('/v1/failover', async (request, reply) => {
    const result = await controller.failover(failoverBodySchema.parse(request.body ?? {}));
    return reply.code(result.joined ? 200 : 202).send(result);
  });
  app.post('/v1/switchover', async (_request, reply) => reply.code(202).send(await controller.switchover()));
  app.post('/v1/maintenance', async (request) =>
    controller.maintenance(maintenanceBodySchema.parse(request.body ?? {})),
  );
  app.post('/v1/inject', async (request) => {
    await controller.inject(injectBodySchema.parse(request.body ?? {}));
    return { ok: true };
  });
  app.post('/v1/request', async (request) => {
    const body = requestBodySchema.parse(request.body ?? {});
    const bytes = typeof body.memory === 'number' ? body.memory : parseSizeBytes(body.memory);
    return controller.requestMemory({ app: body.app, bytes });
  });
  registerStatusPage(app, controller);
  app.get('/metrics', async (_request, reply) => {
    const metrics = await controller.metrics();
    return reply.type(metrics.contentType).send(metrics.text);
  });
  registerEventRoutes(app, controller);
  app.post('/v1/down', async () => {
    setImmediate(() => void controller.down());
    return { ok: true };
  });
  return app;
}

/** Listens on `socketPath` (a stale socket file is replaced) and makes it 0600. */
export async function listenOnSocket(app: ReturnType<typeof buildApi>, socketPath: string): Promise<void> {
  await rm(socketPath, { force: true });
  await app.listen({ path: socketPath });
  await chmod(socketPath, 0o600);
}
