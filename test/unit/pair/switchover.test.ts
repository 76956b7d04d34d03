import { describe, expect, it } from 'vitest';
import type { StableEndpoint } from '../../../src/endpoint/proxy.js';
import { AgentError, ConflictError } from '../../../src/errors.js';
import type { PairState } from '../../../src/pair/pair-state.js';
import {
  checkSwitchover,
  moveOrdinaryApps,
  type OrdinaryHost,
  runSwitchover,
  type SwitchoverHost,
} from '../../../src/pair/switchover.js';
import { appAreaName, findArea, poolBytes, switchOver } from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';
import { type FakePair, fakePair } from './fake-pair.js';

const hostOf = (f: FakePair) => f.pair as unknown as SwitchoverHost;

/** The fake pair with its state, busy flag and blocked reason as a test sets them. */
function withFields(f: FakePair, fields: { state?: PairState; isBusy?: boolean; blockedReason?: string }) {
  Object.assign(f.pair, fields);
  return hostOf(f);
}

async function refusal(host: SwitchoverHost): Promise<unknown> {
  try {
    checkSwitchover(host);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('checkSwitchover', () => {
  it('plans every hot-standby app of the active onto the standby', async () => {
    const f = await fakePair();
    const plan = checkSwitchover(hostOf(f));
    expect(plan).toMatchObject({ kind: 'switchover', from: 'vm-a', to: 'vm-b', apps: ['kvd'] });
    expect(findArea(plan.tableAfter, appAreaName('kvd'))?.user).toBe('vm-b');
    expect(plan.tableAfter.roles).toEqual({ active: 'vm-b', standby: 'vm-a' });
  });

  it.each([
    [{ isBusy: true }, 'Cannot switch over: a failover is under way'],
    [
      { state: 'blocked', blockedReason: 'undo failed' },
      'Cannot switch over: the pair is blocked (undo failed)',
    ],
    [{ state: 'blocked' }, 'Cannot switch over: the pair is blocked (no reason recorded)'],
    [{ state: 'unprotected' }, 'Cannot switch over: the pair is unprotected, not protected'],
    [{ state: 'starting' }, 'Cannot switch over: the pair is starting, not protected'],
  ] as const)('refuses with a conflict when %o', async (fields, message) => {
    const f = await fakePair();
    const error = await refusal(withFields(f, fields));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'CONFLICT', message });
  });

  it('refuses when either VM is not running or gone', async () => {
    const exited = await fakePair();
    exited.standby.exit();
    expect(await refusal(hostOf(exited))).toMatchObject({
      code: 'CONFLICT',
      message: 'Cannot switch over: vm-b is not running',
    });
    const gone = await fakePair();
    (gone.pair.vms as Map<string, unknown>).delete('vm-a');
    expect(await refusal(hostOf(gone))).toMatchObject({ message: 'Cannot switch over: vm-a is not running' });
  });

  it('refuses when no hot-standby app runs on the active', async () => {
    const f = await fakePair({ placedApps: ['cron'] });
    expect(await refusal(hostOf(f))).toMatchObject({
      code: 'CONFLICT',
      message: 'Cannot switch over: no hot-standby app runs on the active vm-a',
    });
  });
});

describe('runSwitchover', () => {
  it('holds the endpoint just before the stop, moves kvd to the standby, routes it there, and swaps the roles in the table', async () => {
    const f = await fakePair();
    const started: string[] = [];
    const execution = await runSwitchover(hostOf(f), checkSwitchover(hostOf(f)), (id) => started.push(id));
    expect(execution.outcome).toBe('succeeded');
    expect(execution.record).toMatchObject({ kind: 'switchover', fromVm: 'vm-a', toVm: 'vm-b' });
    expect(started).toEqual([execution.record.id]);
    expect(f.endpointCalls).toEqual(['hold', `route vm-b:${f.standby.vm.forwards.get('kvd')}`]);
    expect(f.active.calls[0]).toBe('agent app.stop kvd');
    expect(f.mechanism.calls).toEqual(['unplug vm-a slot0', 'plug vm-b slot0 128 MiB']);
    expect(f.pair.table.roles).toEqual({ active: 'vm-b', standby: 'vm-a' });
    expect(findArea(f.pair.table, appAreaName('kvd'))?.user).toBe('vm-b');
  });

  it('undoes every step when kvd does not start on the standby: back on the old active, table and roles as before', async () => {
    const f = await fakePair();
    const before = f.pair.table;
    f.standby.onAppStart = async () => {
      throw new AgentError({ vm: 'vm-b', agentCode: 'internal', message: 'fork failed' });
    };
    const execution = await runSwitchover(hostOf(f), checkSwitchover(hostOf(f)), () => undefined);
    expect(execution.outcome).toBe('rolled-back');
    expect(execution.record.result).toBe('failed');
    expect(execution.error?.message).toContain('fork failed');
    expect(f.pair.table).toBe(before);
    expect(f.mechanism.calls).toEqual([
      'unplug vm-a slot0',
      'plug vm-b slot0 128 MiB',
      'unplug vm-b slot0',
      'plug vm-a slot0 128 MiB',
    ]);
    expect(f.active.calls.filter((c) => c.startsWith('agent'))).toEqual([
      'agent app.stop kvd',
      'agent app.start kvd with disk',
    ]);
    expect(f.standby.calls).toContain('qmp device_del id=blk-kvd');
    expect(f.endpointCalls.at(-1)).toBe(`route vm-a:${f.active.vm.forwards.get('kvd')}`);
  });

  it('fails before any step when the new active is gone by the time it runs', async () => {
    const f = await fakePair();
    const plan = checkSwitchover(hostOf(f));
    (f.pair.vms as Map<string, unknown>).delete('vm-b');
    const execution = await runSwitchover(hostOf(f), plan, () => undefined);
    expect(execution.outcome).toBe('failed');
    expect(execution.error?.message).toContain('vm-b is not running');
    expect(f.active.calls).toEqual([]);
    expect(f.mechanism.calls).toEqual([]);
    expect(f.endpointCalls).toEqual([]);
  });
});

describe('moveOrdinaryApps', () => {
  /** The fake pair after a switchover's commit: kvd on vm-b, cron left on the old active vm-a. */
  async function afterSwap() {
    const f = await fakePair();
    f.pair.commitTable((table) => switchOver(table).table);
    const held: string[] = [];
    (f.pair.endpoints as Map<string, StableEndpoint>).set('cron', {
      hold: () => held.push('cron'),
    } as unknown as StableEndpoint);
    return { f, host: f.pair as unknown as OrdinaryHost, held };
  }

  it('stops each ordinary app on the old active, empties its slot, returns its area, then starts it on the new active', async () => {
    const { f, host, held } = await afterSwap();
    const pool = poolBytes(f.pair.table);
    const startedOn: string[] = [];
    const phases = await moveOrdinaryApps(host, 'vm-a', async (app) => {
      startedOn.push(app);
      expect(findArea(f.pair.table, appAreaName(app))).toBeUndefined();
    });
    expect(held).toEqual(['cron']);
    expect(f.active.calls).toEqual(['agent app.stop cron']);
    expect(f.mechanism.calls).toEqual(['unplug vm-a slot1']);
    expect(poolBytes(f.pair.table)).toBe(pool + 32 * MiB);
    expect(startedOn).toEqual(['cron']);
    expect(phases.map((p) => p.name)).toEqual(['ordinary:cron']);
  });

  it('leaves an app that cannot be stopped where it is, records its phase, and moves on', async () => {
    const { f, host } = await afterSwap();
    f.active.onAppStop = async () => {
      throw new AgentError({ vm: 'vm-a', agentCode: 'internal', message: 'kill failed' });
    };
    const table = f.pair.table;
    const startedOn: string[] = [];
    const phases = await moveOrdinaryApps(host, 'vm-a', async (app) => void startedOn.push(app));
    expect(f.mechanism.calls).toEqual([]);
    expect(f.pair.table).toBe(table);
    expect(startedOn).toEqual([]);
    expect(phases.map((p) => p.name)).toEqual(['ordinary:cron']);
  });

  it('moves nothing off a VM that runs no ordinary app or is gone', async () => {
    const { f, host } = await afterSwap();
    expect(await moveOrdinaryApps(host, 'vm-b', async () => undefined)).toEqual([]);
    (f.pair.vms as Map<string, unknown>).delete('vm-a');
    expect(await moveOrdinaryApps(host, 'vm-a', async () => undefined)).toEqual([]);
    expect(f.mechanism.calls).toEqual([]);
  });
});
