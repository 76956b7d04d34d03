// A daemon controller for API and CLI tests without a pair: a protected, empty pair whose every
// answer is fixed; a test overrides the methods it looks at.
import type { Controller } from '../../src/daemon/api.js';
import type { EventBus } from '../../src/daemon/events.js';

export function fakeController(bus: EventBus, overrides: Partial<Controller> = {}): Controller {
  return {
    status: () => ({
      epoch: 1,
      state: 'protected',
      blocked: false,
      blockedReason: null,
      vms: [],
      apps: [],
      saves: { isSaving: false, started: 0 },
      queued: [],
      maintenance: { on: false, since: null, heldFaults: [] },
    }),
    table: () => ({ epoch: 1, budgetBytes: 0, areas: [] }),
    history: () => [],
    failover: async () => ({ id: 'f1', joined: false }),
    inject: async () => undefined,
    requestMemory: async () => ({ grantedBytes: 0, epoch: 1 }),
    metrics: async () => ({ contentType: 'text/plain', text: '' }),
    down: async () => undefined,
    recentEvents: () => bus.recent(),
    subscribeEvents: (listener) => bus.subscribe(listener),
    failoverResult: async (id, waitMs) => ({
      id,
      result: 'running',
      phase: `waited ${waitMs}`,
      record: null,
    }),
    switchover: async () => ({ id: 's1' }),
    maintenance: async () => ({ on: false, since: null, heldFaults: [] }),
    ...overrides,
  };
}
