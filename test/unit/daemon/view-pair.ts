// A pair as the daemon's views and controller read it: two VMs (this test process stands in for a live QEMU), apps A and B on figure 4's table C.
import type { Pair } from '../../../src/pair/pair.js';
import { createSupervision } from '../../../src/pair/supervise.js';
import { processStartTime } from '../../../src/recovery/identity.js';
import type { FailoverRecord } from '../../../src/state/history.js';
import { MiB } from '../../../src/units.js';
import { stateC } from '../table/fixtures.js';

/** A machine whose QEMU "runs" as this process (its pid and start time are real, so /proc agrees). */
export function liveMachine(agent: Record<string, unknown> = {}) {
  return {
    isRunning: true,
    pid: process.pid,
    startTime: processStartTime(process.pid),
    agent: { lastHeartbeatAtMs: performance.now(), ...agent },
  };
}

/** The apps of figure 4's state C: hot-standby A (128 MiB, slot0) and ordinary B (32 MiB, slot1). */
const apps = [
  { name: 'A', slot: 'slot0', sizeBytes: 128 * MiB, hotStandby: true },
  { name: 'B', slot: 'slot1', sizeBytes: 32 * MiB, hotStandby: false },
];

/** The pair's readable fields, protected, both apps on vm-a; a test overrides or mutates what it looks at. */
export function viewPair(overrides: Record<string, unknown> = {}) {
  const roles = { active: 'vm-a', standby: 'vm-b' };
  const table = stateC();
  const vms = new Map([
    ['vm-a', { machine: liveMachine() }],
    ['vm-b', { machine: liveMachine() }],
  ]);
  const pair = {
    roles,
    accel: 'tcg',
    state: 'protected',
    lifecycleState: () => 'protected',
    config: {
      apps: apps.map((a) => ({ ...a, argv: ['/apps/x'], guestPort: 7000, endpointPort: 0 })),
      baseBytes: 256 * MiB,
      isFaultInjectionAllowed: true,
    },
    vms,
    get activeVm() {
      return vms.get(roles.active);
    },
    endpoints: new Map(apps.map((a) => [a.name, { currentTarget: { vm: 'vm-a', port: 7000 } }])),
    waitingReasons: new Map<string, string>(),
    table,
    supervision: createSupervision(),
    endpointPort: (app: string) => (app === 'A' ? 17000 : 17001),
    blockedReason: undefined as string | undefined,
    persistence: undefined,
    queuedFaults: [],
    maintenance: { isOn: false, since: undefined as string | undefined, held: [] as unknown[] },
    history: [] as FailoverRecord[],
    inFlightId: undefined as string | undefined,
    ...overrides,
  };
  return { pair, asPair: pair as unknown as Pair };
}

/** A finished failover record as the timeline closes one. */
export function finishedRecord(fields: Partial<FailoverRecord> = {}): FailoverRecord {
  return {
    id: 'f1',
    kind: 'whole-vm',
    trigger: 'GUEST_PANICKED',
    fromVm: 'vm-a',
    toVm: 'vm-b',
    startedAt: '2026-12-06T05:00:00.000Z',
    totalMs: 812,
    result: 'succeeded',
    phases: [
      { name: 'detect', ms: 12 },
      { name: 'fence', ms: 300 },
    ],
    ...fields,
  };
}
