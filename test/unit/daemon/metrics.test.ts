import { describe, expect, it } from 'vitest';
import { createMetrics, serveMetrics } from '../../../src/daemon/metrics.js';
import { createSilentLogger } from '../../../src/log.js';
import { MaintenanceHold } from '../../../src/pair/maintenance.js';
import type { Pair } from '../../../src/pair/pair.js';

describe('metrics', () => {
  it('serves the Prometheus text on a loopback TCP port, counting finished failovers', async () => {
    const metrics = createMetrics(() => undefined);
    metrics.recordFailover({
      id: 'x',
      kind: 'whole-vm',
      trigger: 'GUEST_PANICKED on vm-a',
      fromVm: 'vm-a',
      toVm: 'vm-b',
      startedAt: new Date(0).toISOString(),
      totalMs: 700,
      result: 'succeeded',
      phases: [
        { name: 'detect', ms: 2 },
        { name: 'fence', ms: 10 },
      ],
    });
    const server = await serveMetrics(metrics, { host: '127.0.0.1', port: 0 });
    try {
      const address = server.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const text = await response.text();
      expect(text).toContain('baton_failovers_total{kind="whole-vm",result="succeeded"} 1');
      expect(text).toContain('baton_failover_phase_seconds_count{kind="whole-vm",phase="fence"} 1');
      expect(text).toContain('baton_detection_seconds_count{kind="whole-vm"} 1');
      expect(text).toContain('baton_table_epoch 0');
      expect((await fetch(`http://127.0.0.1:${port}/v1/status`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('shows maintenance and the held faults as gauges', async () => {
    const maintenance = new MaintenanceHold({ log: createSilentLogger() });
    const pair = { maintenance, vms: new Map(), table: { areas: [], epoch: 3 }, state: 'protected' };
    const metrics = createMetrics(() => pair as unknown as Pair);
    expect(await metrics.registry.metrics()).toContain('baton_maintenance 0');
    await maintenance.set(true);
    maintenance.hold({
      vm: 'vm-a',
      signal: 'hang',
      reason: 'hang on vm-a',
      detectedAtMs: 1,
      heldAt: new Date(0).toISOString(),
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain('baton_maintenance 1');
    expect(text).toContain('baton_held_faults 1');
  });
});
