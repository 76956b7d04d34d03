// The status page's two routes: GET / (the page) and GET /v1/overview (the JSON it polls).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { HistoryView, StatusView, TableView } from '../views.js';
import { OVERVIEW_PATH, STATUS_PAGE_CSP, STATUS_PAGE_HTML } from './html.js';
import type { Overview } from './shape.js';

/** The views the page shows: the controller's `status`, `table` and `history`. */
export interface PageViews {
  status(): StatusView;
  table(): TableView;
  history(): HistoryView;
}

export function overviewOf(views: PageViews): Overview {
  return { status: views.status(), table: views.table(), history: views.history() };
}

/** Adds the page and its JSON to `server` (the metrics listener, and the control API). */
export function registerStatusPage<L extends FastifyBaseLogger>(
  server: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, L>,
  views: PageViews,
): void {
  server.get('/', (_request, reply) =>
    reply
      .header('content-security-policy', STATUS_PAGE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(STATUS_PAGE_HTML),
  );
  server.get(OVERVIEW_PATH, (_request, reply) =>
    reply.header('cache-control', 'no-store').send(overviewOf(views)),
  );
}
