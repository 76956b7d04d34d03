// What the pair does with a fault signal, by the lifecycle machine: fail over, replace the standby, queue until a standby is ready, join an operation, hold during a switchover.
import { describe, expect, it } from 'vitest';
import type { FailoverTrigger } from '../../../src/failover/context.js';
import { createSilentLogger } from '../../../src/log.js';
import { type FaultActions, FaultHandling, type FaultView } from '../../../src/pair/fault-handling.js';
import type { HeldFault } from '../../../src/pair/maintenance.js';
import type { PairState } from '../../../src/pair/pair-state.js';
import type { PairVm } from '../../../src/pair/vm-factory.js';
import type { FailoverRecord } from '../../../src/state/history.js';
import { createTable } from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';

const vmNamed = (name: string, pid: number) =>
  ({ machine: { spec: { name }, pid, isRunning: true } }) as unknown as PairVm;

/** A protected pair: vm-a active (serving), vm-b standby (spare), both running. */
function handling(
  overrides: { state?: PairState; isStandbyBooting?: boolean; isSwitchingOver?: boolean } = {},
) {
  const acted: string[] = [];
  const held: HeldFault[] = [];
  const noted: string[] = [];
  const vms = new Map([
    ['vm-a', vmNamed('vm-a', 100)],
    ['vm-b', vmNamed('vm-b', 200)],
  ]);
  const record = { id: 'f1' } as FailoverRecord;
  const view = {
    config: { isFaultInjectionAllowed: false },
    log: createSilentLogger(),
    maintenance: { isOn: false, hold: (fault: HeldFault) => held.push(fault) },
    persistence: { noteFault: (f: { action: string }) => noted.push(f.action), operations: new Map() },
    state: overrides.state ?? 'protected',
    roles: { active: 'vm-a', standby: 'vm-b' },
    table: createTable({
      budgetBytes: 512 * MiB,
      blockBytes: 2 * MiB,
      roles: { active: 'vm-a', standby: 'vm-b' },
      osAreas: [
        { vm: 'vm-a', sizeBytes: 96 * MiB },
        { vm: 'vm-b', sizeBytes: 96 * MiB },
      ],
      monitorBytes: 32 * MiB,
      osMinBytes: 96 * MiB,
    }).table,
    vms,
    endpoints: new Map(),
    get standbyVm() {
      return vms.get('vm-b');
    },
    inFlight: undefined as Promise<FailoverRecord> | undefined,
    inFlightId: undefined,
  } as unknown as FaultView & { inFlight: Promise<FailoverRecord> | undefined };
  const actions: FaultActions = {
    isStandbyBooting: () => overrides.isStandbyBooting ?? false,
    isSwitchingOver: () => overrides.isSwitchingOver ?? false,
    failOver: async (trigger) => {
      acted.push(`fail-over ${trigger.vm}`);
      return record;
    },
    replaceStandby: (vm) => acted.push(`replace ${vm}`),
    bootReplacement: () => acted.push('boot replacement'),
  };
  return { faults: new FaultHandling(view, actions), view, acted, held, noted, record };
}

const on = (vm: string, signal: FailoverTrigger['signal'] = 'qemu-exit'): FailoverTrigger => ({
  vm,
  signal,
  detectedAtMs: 1,
});

describe('FaultHandling', () => {
  it('fails the active over and replaces a spare standby when the pair is protected', async () => {
    const h = handling();
    expect(h.faults.lifecycleState()).toBe('protected');
    expect(await h.faults.onFault(on('vm-a', 'GUEST_PANICKED'))).toBe(h.record);
    expect(await h.faults.onFault(on('vm-b'))).toBeUndefined();
    expect(h.acted).toEqual(['fail-over vm-a', 'replace vm-b']);
    expect(h.noted).toEqual(['failover', 'replace-standby']);
  });

  it('queues a fault of the active while the standby boots, shows it, and fails over once one is ready', async () => {
    let isBooting = true;
    const h = handling();
    const faults = new FaultHandling(h.view, {
      isStandbyBooting: () => isBooting,
      isSwitchingOver: () => false,
      failOver: async (trigger) => {
        h.acted.push(`fail-over ${trigger.vm}`);
        return h.record;
      },
      replaceStandby: (vm) => h.acted.push(`replace ${vm}`),
      bootReplacement: () => h.acted.push('boot replacement'),
    });
    expect(faults.lifecycleState()).toBe('re-protecting');
    await faults.onFault(on('vm-a', 'hang'));
    expect(h.acted).toEqual([]);
    expect(faults.queued).toEqual([{ vm: 'vm-a', pid: 100, signal: 'hang', detectedAtMs: 1 }]);
    isBooting = false;
    faults.scheduleDrain();
    await new Promise((resolve) => setImmediate(resolve));
    expect(h.acted).toEqual(['fail-over vm-a']);
    expect(faults.queued).toEqual([]);
  });

  it('holds every fault during a switchover, and keeps faults while blocked', async () => {
    const switching = handling({ isSwitchingOver: true });
    await switching.faults.onFault(on('vm-a', 'GUEST_PANICKED'));
    expect(switching.held).toMatchObject([{ vm: 'vm-a', signal: 'GUEST_PANICKED' }]);
    expect(switching.acted).toEqual([]);
    const blocked = handling({ state: 'blocked' });
    await blocked.faults.onFault(on('vm-a'));
    expect(blocked.acted).toEqual([]);
    expect(blocked.faults.queued).toHaveLength(1);
  });

  it('joins a failover under way: the caller gets its record, the fault is kept to be looked at again', async () => {
    const h = handling({ state: 'failing-over' });
    const running = Promise.resolve(h.record);
    h.view.inFlight = running;
    expect(h.faults.lifecycleState()).toBe('failing-over');
    expect(await h.faults.onFault(on('vm-a', 'qmp-disconnect'))).toBe(h.record);
    expect(h.acted).toEqual([]);
    expect(h.faults.queued).toHaveLength(1);
  });

  it('says what an app exit leads to: the policy on the serving VM, a log line on the spare', () => {
    const h = handling();
    expect(h.faults.reactionTo('vm-a', 'app-exit')).toBe('app-policy');
    expect(h.faults.reactionTo('vm-b', 'app-exit')).toBe('log');
    expect(handling({ state: 'failing-over' }).faults.reactionTo('vm-a', 'app-exit')).toBe('join');
  });
});
