// The demo pair after one whole-VM failover (vm-a to vm-b), as the overview route serves it.
import type { Overview } from '../../../../src/daemon/page/shape.js';
import type { HistoryView } from '../../../../src/daemon/views.js';
import { MiB } from '../../../../src/units.js';

/** The ids of the page's fixed elements, which the script draws into (html.ts writes them). */
export const PAGE_IDS = [
  'pair-state',
  'freshness',
  'table-summary',
  'table-rows',
  'vms-body',
  'apps-body',
  'failovers',
  'failovers-summary',
] as const;

const area = (name: string, kind: string, sizeMiB: number, user: string, onFailure: string) => ({
  name,
  kind,
  sizeBytes: sizeMiB * MiB,
  user,
  onFailure,
  requestedBytes: kind === 'app' ? sizeMiB * MiB : 0,
  pluggedBytes: kind === 'app' ? sizeMiB * MiB : 0,
});

export const WHOLE_VM_FAILOVER: HistoryView[number] = {
  id: '6f1c2a9e-0d7b-4c1e-9a55-3b2f0e8d1c44',
  kind: 'whole-vm',
  trigger: 'request on vm-a',
  app: null,
  fromVm: 'vm-a',
  toVm: 'vm-b',
  startedAt: '2026-12-06T05:10:00.000Z',
  totalMs: 1000,
  result: 'succeeded',
  error: null,
  phases: [
    { name: 'detect', ms: 0 },
    { name: 'fence', ms: 100 },
    { name: 'plug', ms: 300 },
    { name: 'start', ms: 400 },
    { name: 'commit', ms: 200 },
  ],
};

export function demoOverview(): Overview {
  return {
    status: {
      epoch: 9,
      state: 'protected',
      blocked: false,
      blockedReason: null,
      saves: { isSaving: false, started: 12 },
      maintenance: { on: false, since: null, heldFaults: [] },
      vms: [
        {
          name: 'vm-b',
          role: 'active',
          state: 'running',
          accel: 'tcg',
          pid: 4242,
          uid: 999,
          baseBytes: 96 * MiB,
          pluggedBytes: 160 * MiB,
          heartbeatAgeMs: 230,
        },
        {
          name: 'vm-a',
          role: 'standby',
          state: 'running',
          accel: 'tcg',
          pid: 4343,
          uid: 999,
          baseBytes: 96 * MiB,
          pluggedBytes: 0,
          heartbeatAgeMs: 2100,
        },
      ],
      apps: [
        {
          name: 'kvd',
          vm: 'vm-b',
          state: 'running',
          reason: null,
          restarts: 0,
          endpointPort: 41000,
          startError: null,
        },
        {
          name: 'cache',
          vm: null,
          state: 'waiting',
          reason: 'pool has 16 MiB, needs 32 MiB',
          restarts: 2,
          endpointPort: 41001,
          startError: null,
        },
      ],
      queued: [],
    },
    table: {
      epoch: 9,
      budgetBytes: 736 * MiB,
      areas: [
        area('os:vm-a', 'os', 96, 'vm-a', 'vm-a'),
        area('os:vm-b', 'os', 96, 'vm-b', 'vm-b'),
        area('monitor', 'monitor', 32, 'monitor', 'monitor'),
        area('app:kvd', 'app', 128, 'vm-b', 'vm-a'),
        area('app:cache', 'app', 32, 'vm-b', 'monitor'),
        area('pool', 'pool', 352, 'monitor', 'monitor'),
      ],
    },
    history: [WHOLE_VM_FAILOVER],
  };
}
