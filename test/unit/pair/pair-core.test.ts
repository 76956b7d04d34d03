import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { HangDetector } from '../../../src/detect/hang.js';
import type { StableEndpoint } from '../../../src/endpoint/proxy.js';
import type { MemoryMechanism } from '../../../src/memory/mechanism.js';
import { defaultPairConfig } from '../../../src/pair/config.js';
import { PairCore } from '../../../src/pair/pair-core.js';
import type { PairState } from '../../../src/pair/pair-state.js';
import type { PairPersistence } from '../../../src/pair/persist.js';
import type { FailoverRecord } from '../../../src/state/history.js';
import type { StateDoc } from '../../../src/state/index.js';
import {
  appAreaName,
  failOver,
  findArea,
  osAreaName,
  type ResourceTable,
  startApp,
  switchOver,
} from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';
import { fakeVm, recordingLogger } from './fake-pair.js';

/** The core with its two hooks recorded and its protected methods reachable. */
class RecordedCore extends PairCore {
  readonly hooks: string[] = [];

  constructor() {
    super(defaultPairConfig('/nonexistent/baton-state'), {
      log: recordingLogger().log,
      accel: 'tcg',
      mechanism: {} as MemoryMechanism,
    });
  }

  protected tableChanged(): void {
    this.hooks.push(`table epoch ${this.table.epoch}`);
  }

  protected stateChanged(previous: PairState, next: PairState): void {
    this.hooks.push(`state ${previous} -> ${next}`);
  }

  enter(state: PairState): void {
    this.setState(state);
  }

  restoreFrom(saved: StateDoc): void {
    this.restore(saved);
  }

  drop(name: string): void {
    this.dropVm(name);
  }

  serve(app: string, vm: Parameters<PairCore['serveFrom']>[1], hostPort: number): void {
    this.serveFrom(app, vm, hostPort);
  }

  forgetExited(): Promise<void> {
    return this.forgetExitedVms();
  }
}

/** A core with vm-a and vm-b (fake VMs), kvd on vm-a, and a persistence that counts its saves. */
function coreWithVms() {
  const core = new RecordedCore();
  const a = fakeVm('vm-a');
  const b = fakeVm('vm-b');
  core.vms.set('vm-a', a.vm);
  core.vms.set('vm-b', b.vm);
  const saves = { bound: undefined as unknown, changed: 0 };
  core.persistThrough({
    bind: (view: unknown) => {
      saves.bound = view;
    },
    changed: () => {
      saves.changed += 1;
    },
  } as unknown as PairPersistence);
  core.commitTable(
    (table) =>
      startApp(table, { app: 'kvd', vm: 'vm-a', sizeBytes: 128 * MiB, hotStandby: true, slot: 'slot0' })
        .table,
  );
  return { core, a, b, saves };
}

const record = (id: string): FailoverRecord => ({
  id,
  kind: 'whole-vm',
  trigger: 'GUEST_PANICKED on vm-a',
  fromVm: 'vm-a',
  toVm: 'vm-b',
  startedAt: '2026-12-06T10:00:00.000Z',
  totalMs: 900,
  result: 'succeeded',
  phases: [],
});

describe('PairCore', () => {
  it('starts with the first VM active, an OS area per VM, and the state starting', () => {
    const core = new RecordedCore();
    expect(core.roles).toEqual({ active: 'vm-a', standby: 'vm-b' });
    expect(core.state).toBe('starting');
    expect(findArea(core.table, osAreaName('vm-a'))?.sizeBytes).toBe(96 * MiB);
    expect(findArea(core.table, osAreaName('vm-b'))?.sizeBytes).toBe(96 * MiB);
    expect(core.tableHistory).toEqual([core.table]);
    expect(core.activeVm).toBeUndefined();
  });

  it('applies a table change to the table current at commit, keeps it in the history, saves and says so', () => {
    const { core, saves } = coreWithVms();
    const savesBefore = saves.changed;
    const first = core.table;
    const next = core.commitTable((table) => {
      expect(table).toBe(first);
      return switchOver(table).table;
    });
    expect(core.table).toBe(next);
    expect(core.tableHistory.at(-1)).toBe(next);
    expect(saves.changed).toBe(savesBefore + 1);
    expect(core.hooks.at(-1)).toBe(`table epoch ${next.epoch}`);
    // A plain table commit never changes the roles: only a failover does.
    expect(core.roles).toEqual({ active: 'vm-a', standby: 'vm-b' });
  });

  it('keeps only the last 200 tables', () => {
    const core = new RecordedCore();
    for (let i = 0; i < 250; i += 1) core.commitTable((table) => ({ ...table, epoch: table.epoch + 1 }));
    expect(core.tableHistory).toHaveLength(200);
    expect(core.tableHistory.at(-1)).toBe(core.table);
    expect(core.tableHistory[0]?.epoch).toBe(core.table.epoch - 199);
  });

  it('commits a whole-VM failover: the new active takes over and the failed VM leaves the pair', () => {
    const { core, b } = coreWithVms();
    core.commitFailover('whole-vm', 'vm-a', (table) => failOver(table, { failedVm: 'vm-a' }).table);
    expect(core.roles.active).toBe('vm-b');
    expect([...core.vms.keys()]).toEqual(['vm-b']);
    expect(core.activeVm).toBe(b.vm);
    expect(findArea(core.table, appAreaName('kvd'))?.user).toBe('vm-b');
  });

  it('refuses a whole-VM failover onto a VM that is not running, changing nothing', () => {
    const { core, b } = coreWithVms();
    b.exit();
    const before = core.table;
    expect(() =>
      core.commitFailover('whole-vm', 'vm-a', (table) => failOver(table, { failedVm: 'vm-a' }).table),
    ).toThrow('the new active vm-b is not running, so nothing can move to it');
    expect(core.table).toBe(before);
    expect(core.roles).toEqual({ active: 'vm-a', standby: 'vm-b' });
    expect([...core.vms.keys()]).toEqual(['vm-a', 'vm-b']);
  });

  it('commits a switchover with the roles swapped and both VMs kept, a single-app move with the roles kept', () => {
    const { core } = coreWithVms();
    core.commitFailover('switchover', 'vm-a', (table) => switchOver(table).table);
    expect(core.roles).toEqual({ active: 'vm-b', standby: 'vm-a' });
    expect(core.vms.size).toBe(2);
    const moved = core.table;
    core.commitFailover('app', 'vm-b', (table) => ({ ...table, roles: { active: 'vm-a', standby: 'vm-b' } }));
    expect(core.roles).toEqual({ active: 'vm-b', standby: 'vm-a' });
    expect(core.table).not.toBe(moved);
  });

  it('blocks with the reason, through the one state change', () => {
    const { core } = coreWithVms();
    core.enter('protected');
    core.block('the undo of plug failed: vm-b slot0 still holds 128 MiB');
    expect(core.state).toBe('blocked');
    expect(core.blockedReason).toBe('the undo of plug failed: vm-b slot0 still holds 128 MiB');
    expect(core.hooks.slice(-2)).toEqual(['state starting -> protected', 'state protected -> blocked']);
  });

  it('keeps a record in the history and saves it', () => {
    const { core, saves } = coreWithVms();
    const before = saves.changed;
    core.keepRecord(record('f1'));
    expect(core.history.map((r) => r.id)).toEqual(['f1']);
    expect(saves.changed).toBe(before + 1);
  });

  it('binds the persistence to itself and saves at once', () => {
    const { core, saves } = coreWithVms();
    expect(saves.bound).toBe(core);
    expect(saves.changed).toBeGreaterThanOrEqual(1);
  });

  it("takes a previous daemon's roles, table and history as its own", () => {
    const { core } = coreWithVms();
    core.keepRecord(record('mine'));
    const saved = switchOver(core.table).table;
    core.restoreFrom({
      schemaVersion: 1,
      epoch: saved.epoch,
      table: saved,
      operations: [],
      history: [record('theirs')],
    } as unknown as StateDoc);
    expect(core.roles).toEqual({ active: 'vm-b', standby: 'vm-a' });
    expect(core.table).toBe(saved);
    expect(core.history.map((r) => r.id)).toEqual(['mine', 'theirs']);
  });

  it('forgets a VM and saves', () => {
    const { core, saves } = coreWithVms();
    const before = saves.changed;
    core.drop('vm-b');
    expect(core.standbyVm).toBeUndefined();
    expect(saves.changed).toBe(before + 1);
  });

  it('routes an app it serves to the VM and restarts its supervision clock; with no VM only the clock', () => {
    const { core, a } = coreWithVms();
    const routes: unknown[] = [];
    core.endpoints.set('kvd', {
      route: (t: unknown) => routes.push(t),
      port: 7400,
    } as unknown as StableEndpoint);
    core.supervision.startFailures.set('kvd', { vm: 'vm-a', code: 'spawn-failed', message: 'x' });
    core.serve('kvd', a.vm, 40123);
    expect(routes).toEqual([{ host: '127.0.0.1', port: 40123, vm: 'vm-a' }]);
    expect(core.supervision.startFailures.has('kvd')).toBe(false);
    expect(core.supervision.histories.has('kvd')).toBe(true);
    core.serve('kvd', undefined, 40123);
    expect(routes).toHaveLength(1);
    expect(core.endpointPorts()).toEqual({ kvd: 7400 });
    expect(core.endpointPort('kvd')).toBe(7400);
    expect(core.endpointPort('cron')).toBe(0);
  });

  it('lets exited VMs leave the pair (detector stopped, QEMU reaped) and keeps the running ones and the table', async () => {
    const { core, a, b, saves } = coreWithVms();
    const stopped: string[] = [];
    const detector = Object.assign(new EventEmitter(), { stop: () => stopped.push('vm-a') });
    core.detectors.set('vm-a', detector as unknown as HangDetector);
    a.exit();
    const table: ResourceTable = core.table;
    const before = saves.changed;
    await core.forgetExited();
    expect([...core.vms.keys()]).toEqual(['vm-b']);
    expect(stopped).toEqual(['vm-a']);
    expect(a.calls).toEqual(['shutdown 500 ms']);
    expect(b.calls).toEqual([]);
    expect(core.table).toBe(table);
    expect(saves.changed).toBe(before + 1);
  });
});
