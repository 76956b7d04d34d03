// Prometheus metrics, computed from the pair on each scrape (no background timers).
import Fastify from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Pair } from '../pair/pair.js';
import type { FailoverRecord } from '../state/history.js';
import { type PageViews, registerStatusPage } from './page/routes.js';

export interface Metrics {
  registry: Registry;
  /** Counts a finished failover and its phases (call once per record). */
  recordFailover(record: FailoverRecord): void;
}

export function createMetrics(pair: () => Pair | undefined): Metrics {
  const registry = new Registry();
  new Gauge({
    name: 'baton_area_bytes',
    help: 'Size of each resource-table area, by user',
    labelNames: ['area', 'kind', 'user'],
    registers: [registry],
    collect() {
      this.reset();
      for (const area of pair()?.table.areas ?? [])
        this.set({ area: area.name, kind: area.kind, user: area.user }, area.sizeBytes);
    },
  });
  new Gauge({
    name: 'baton_table_epoch',
    help: 'Epoch of the resource table',
    registers: [registry],
    collect() {
      this.set(pair()?.table.epoch ?? 0);
    },
  });
  new Gauge({
    name: 'baton_agent_heartbeat_age_seconds',
    help: 'Time since the last heartbeat of each VM agent',
    labelNames: ['vm'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, vm] of pair()?.vms ?? []) {
        const at = vm.machine.agent.lastHeartbeatAtMs;
        if (at !== undefined) this.set({ vm: name }, (performance.now() - at) / 1000);
      }
    },
  });
  new Gauge({
    name: 'baton_blocked',
    help: '1 when the pair is blocked (a failover could not be made safe)',
    registers: [registry],
    collect() {
      this.set(pair()?.state === 'blocked' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'baton_maintenance',
    help: '1 while maintenance is on (automatic failovers held)',
    registers: [registry],
    collect() {
      this.set(pair()?.maintenance.isOn === true ? 1 : 0);
    },
  });
  new Gauge({
    name: 'baton_held_faults',
    help: 'Faults seen and held (maintenance on, or a switchover under way), not acted on yet',
    registers: [registry],
    collect() {
      this.set(pair()?.maintenance.held.length ?? 0);
    },
  });
  const failovers = new Counter({
    name: 'baton_failovers_total',
    help: 'Failovers by kind and result',
    labelNames: ['kind', 'result'],
    registers: [registry],
  });
  const phases = new Histogram({
    name: 'baton_failover_phase_seconds',
    help: 'Duration of each failover phase',
    labelNames: ['kind', 'phase'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const detection = new Histogram({
    name: 'baton_detection_seconds',
    help: 'From the fault signal to the start of fencing',
    labelNames: ['kind'],
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  return {
    registry,
    recordFailover(record) {
      failovers.inc({ kind: record.kind, result: record.result });
      for (const phase of record.phases) {
        if (phase.name === 'detect') detection.observe({ kind: record.kind }, phase.ms / 1000);
        else phases.observe({ kind: record.kind, phase: phase.name }, phase.ms / 1000);
      }
    },
  };
}

/**
 * Serves GET /metrics on a loopback TCP address, and with `page` the status page (GET / and the
 * JSON it polls, GET /v1/overview); nothing else. close() stops it.
 */
export async function serveMetrics(
  metrics: Metrics,
  listen: { host: string; port: number },
  page?: PageViews,
) {
  const server = Fastify({ logger: false, bodyLimit: 1024 });
  server.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  if (page !== undefined) registerStatusPage(server, page);
  await server.listen({ host: listen.host, port: listen.port });
  return server;
}
