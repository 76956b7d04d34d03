import { describe, expect, it } from 'vitest';
import { historyView, maintenanceView, statusView, tableView } from '../../../src/daemon/views.js';
import { MiB } from '../../../src/units.js';
import { finishedRecord, viewPair } from './view-pair.js';

describe('status view', () => {
  it('a whole pair shows both VMs running with the QEMU uid from /proc and both apps running', () => {
    const { asPair } = viewPair();
    const view = statusView(asPair, new Map([['A', 2]]));
    expect(view.state).toBe('protected');
    expect(view.blocked).toBe(false);
    expect(view.vms.map((v) => [v.name, v.role, v.state, v.pid, v.uid])).toEqual([
      ['vm-a', 'active', 'running', process.pid, process.getuid?.()],
      ['vm-b', 'standby', 'running', process.pid, process.getuid?.()],
    ]);
    expect(view.vms[0]?.pluggedBytes).toBe(0);
    expect(view.vms[0]?.heartbeatAgeMs).toBeGreaterThanOrEqual(0);
    expect(view.apps).toEqual([
      {
        name: 'A',
        vm: 'vm-a',
        state: 'running',
        reason: null,
        restarts: 2,
        endpointPort: 17000,
        startError: null,
      },
      {
        name: 'B',
        vm: 'vm-a',
        state: 'running',
        reason: null,
        restarts: 0,
        endpointPort: 17001,
        startError: null,
      },
    ]);
    expect(view.saves).toEqual({ isSaving: false, started: 0 });
  });

  it('a QEMU whose recorded start time no longer matches /proc is exited, its apps down, the pair unprotected', () => {
    const { pair, asPair } = viewPair();
    const machine = pair.vms.get('vm-a')?.machine;
    if (machine === undefined) throw new Error('no vm-a');
    machine.startTime = '1'; // a recycled pid: the process is not the QEMU that was started
    const view = statusView(asPair);
    expect(view.state).toBe('unprotected');
    expect(view.vms[0]?.state).toBe('exited');
    expect(view.apps[0]).toMatchObject({ state: 'down', reason: 'its VM vm-a is exited' });
  });

  it('a VM the pair holds no machine for is absent with no pid, uid or heartbeat', () => {
    const { pair, asPair } = viewPair();
    pair.vms.delete('vm-b');
    const vm = statusView(asPair).vms[1];
    expect(vm).toMatchObject({ name: 'vm-b', state: 'absent', pid: null, uid: null, heartbeatAgeMs: null });
  });

  it('sums the plugged bytes of the app areas each VM uses', () => {
    const { pair, asPair } = viewPair();
    pair.table = {
      ...pair.table,
      areas: pair.table.areas.map((a) => (a.kind === 'app' ? { ...a, pluggedBytes: a.sizeBytes } : a)),
    };
    const [active, standby] = statusView(asPair).vms;
    expect(active?.pluggedBytes).toBe(160 * MiB);
    expect(standby?.pluggedBytes).toBe(0);
  });

  it('an app whose start the agent refused is start-failed with the agent code and message', () => {
    const { pair, asPair } = viewPair();
    pair.supervision.startFailures.set('A', { vm: 'vm-a', code: 'ENOENT', message: 'no /apps/x' });
    expect(statusView(asPair).apps[0]).toMatchObject({
      state: 'start-failed',
      reason: 'did not start on vm-a: ENOENT',
      startError: { vm: 'vm-a', code: 'ENOENT', message: 'no /apps/x' },
    });
  });

  it('a blocked pair says so with its reason and keeps its queued faults', () => {
    const { asPair } = viewPair({
      lifecycleState: () => 'blocked',
      blockedReason: 'undo of plug failed',
      queuedFaults: [{ vm: 'vm-b', pid: 42, signal: 'qemu-exit', detectedAtMs: 1 }],
    });
    const view = statusView(asPair);
    expect(view).toMatchObject({ state: 'blocked', blocked: true, blockedReason: 'undo of plug failed' });
    expect(view.queued).toEqual(['qemu-exit on vm-b (pid 42): kept while the pair is blocked']);
  });

  it('an app routed nowhere is waiting with the reason the pair gives', () => {
    const { pair, asPair } = viewPair();
    pair.endpoints.delete('B');
    pair.waitingReasons.set('B', 'pool has 16 MiB, needs 32 MiB');
    expect(statusView(asPair).apps[1]).toMatchObject({
      vm: null,
      state: 'waiting',
      reason: 'pool has 16 MiB, needs 32 MiB',
    });
  });
});

describe('maintenance, table and history views', () => {
  it('maintenance shows the held faults with null for a VM fault’s app', () => {
    const held = [
      { vm: 'vm-a', signal: 'hang', reason: 'held', heldAt: '2026-12-06T05:00:00.000Z' },
      { vm: 'vm-a', app: 'A', signal: 'severe', reason: 'move', heldAt: '2026-12-06T05:00:01.000Z' },
    ];
    const { asPair } = viewPair({ maintenance: { isOn: true, since: '2026-12-06T04:00:00.000Z', held } });
    expect(maintenanceView(asPair)).toEqual({
      on: true,
      since: '2026-12-06T04:00:00.000Z',
      heldFaults: [
        { ...held[0], app: null },
        { ...held[1], app: 'A' },
      ],
    });
    expect(maintenanceView(viewPair().asPair).since).toBeNull();
  });

  it('the table view lists every area with its budget and epoch, and nothing else', () => {
    const { pair, asPair } = viewPair();
    const view = tableView(asPair);
    expect(view.epoch).toBe(pair.table.epoch);
    expect(view.budgetBytes).toBe(256 * MiB);
    expect(view.areas.map((a) => a.name)).toEqual(pair.table.areas.map((a) => a.name));
    for (const area of view.areas)
      expect(Object.keys(area).sort()).toEqual(
        ['kind', 'name', 'onFailure', 'pluggedBytes', 'requestedBytes', 'sizeBytes', 'user'].sort(),
      );
  });

  it('history gives null for a missing app and error, and drops fields outside the contract', () => {
    const [view] = historyView([finishedRecord({ escalatedTo: 'f9' })]);
    expect(view).toEqual({
      id: 'f1',
      kind: 'whole-vm',
      trigger: 'GUEST_PANICKED',
      app: null,
      fromVm: 'vm-a',
      toVm: 'vm-b',
      startedAt: '2026-12-06T05:00:00.000Z',
      totalMs: 812,
      result: 'succeeded',
      error: null,
      phases: [
        { name: 'detect', ms: 12 },
        { name: 'fence', ms: 300 },
      ],
    });
    const [failed] = historyView([finishedRecord({ app: 'A', result: 'failed', error: 'plug: timeout' })]);
    expect(failed).toMatchObject({ app: 'A', result: 'failed', error: 'plug: timeout' });
  });
});
