import { describe, expect, it } from 'vitest';
import { FenceError } from '../../../src/errors.js';
import { executePlan } from '../../../src/failover/executor.js';
import { planAppMove, planResume, planWholeVm } from '../../../src/failover/plan.js';
import { beginPhase, createOperation, endPhase } from '../../../src/state/operations.js';
import { appAreaName, findArea } from '../../../src/table/index.js';
import { stateC } from '../table/fixtures.js';
import { actions, fakeContext } from './fake-context.js';

const A = { name: 'A', hasDisk: true };
const wholeVm = () => planWholeVm(stateC(), { failedVm: 'vm-a', apps: [A] });
const move = () => planAppMove(stateC(), { app: A, toVm: 'vm-b' });

describe('executePlan: a whole-VM failover', () => {
  it('journals each step intent-first, runs it, commits the table after and closes the record once', async () => {
    const fake = fakeContext(stateC());
    const { record, outcome } = await executePlan(wholeVm(), fake.ctx, { trigger: 'GUEST_PANICKED on vm-a' });
    expect(outcome).toBe('succeeded');
    expect(fake.calls).toEqual([
      'journal open whole-vm vm-a→vm-b',
      'journal intent fence',
      'fence vm-a',
      'journal ok fence',
      'journal intent disk',
      'attach-disk vm-b A',
      'journal ok disk',
      'journal intent plug',
      'plug vm-b A 128',
      'journal ok plug',
      'journal intent confirm',
      'confirm vm-b A',
      'journal ok confirm',
      'journal intent start',
      'start vm-b A',
      'journal ok start',
      'journal intent healthy',
      'healthy vm-b A',
      'serve A from vm-b',
      'journal ok healthy',
      'journal intent commit',
      'commit whole-vm from vm-a',
      'journal ok commit',
      'journal close succeeded',
    ]);
    expect(record).toMatchObject({ kind: 'whole-vm', result: 'succeeded', fromVm: 'vm-a', toVm: 'vm-b' });
    expect(fake.kept).toEqual([record]);
    expect(findArea(fake.table.current, appAreaName('A'))).toMatchObject({
      user: 'vm-b',
      pluggedBytes: 128 * 2 ** 20,
    });
    expect(fake.table.current.roles).toEqual({ active: 'vm-b', standby: 'vm-a' });
  });

  it('undoes the plug and the disk when the start fails after the plug, keeps the original error, blocks', async () => {
    const fake = fakeContext(stateC());
    fake.failOn.set('start vm-b', new Error('agent app.start failed: no such file'));
    const table = fake.table.current;
    const { record, outcome, error } = await executePlan(wholeVm(), fake.ctx, { trigger: 'test' });
    expect(outcome).toBe('blocked');
    expect(error?.message).toBe('agent app.start failed: no such file');
    expect(record).toMatchObject({ result: 'blocked', error: 'agent app.start failed: no such file' });
    expect(actions(fake)).toEqual([
      'fence vm-a',
      'attach-disk vm-b A',
      'plug vm-b A 128',
      'confirm vm-b A',
      'start vm-b A',
      'unplug vm-b A',
      'detach-disk vm-b A',
    ]);
    expect(record.phases.map((p) => p.name).slice(-2)).toEqual(['undo-plug', 'undo-disk']);
    expect(fake.blocked).toEqual(['failover failed: agent app.start failed: no such file']);
    expect(fake.table.current).toBe(table);
  });

  it('blocks with both reasons when an undo fails, and leaves the rest as it is', async () => {
    const fake = fakeContext(stateC());
    fake.failOn.set('start vm-b', new Error('start refused'));
    fake.failOn.set('unplug vm-b', new Error('device_del timed out'));
    const { outcome, record } = await executePlan(wholeVm(), fake.ctx, { trigger: 'test' });
    expect(outcome).toBe('blocked');
    expect(record.error).toBe('start refused');
    expect(fake.blocked).toEqual([
      'failover failed: start refused; undoing plug failed: device_del timed out',
    ]);
    expect(actions(fake).at(-1)).toBe('unplug vm-b A');
  });

  it('blocks on a failed fence with the fence error as the reason, starting nothing', async () => {
    const fake = fakeContext(stateC());
    fake.failOn.set('fence', new FenceError('vm-a', 'QEMU pid 4 did not exit within 5000 ms of SIGKILL'));
    const { outcome } = await executePlan(wholeVm(), fake.ctx, { trigger: 'test' });
    expect(outcome).toBe('blocked');
    expect(actions(fake)).toEqual(['fence vm-a']);
    expect(fake.blocked[0]).toMatch(/vm-a.*did not exit/);
  });

  it('kills the daemon at the named crash point, right after that intent is on disk', async () => {
    const fake = fakeContext(stateC());
    let crashedAfter = '';
    await executePlan(wholeVm(), fake.ctx, {
      trigger: 'test',
      env: { BATON_FAULT_POINT: 'plug:crash' },
      crash: () => {
        crashedAfter = fake.calls.at(-1) ?? '';
      },
    });
    expect(crashedAfter).toBe('journal intent plug');
  });
});

describe('executePlan: a single-app move', () => {
  it('rolls back to the source when the plug on the target fails: the app serves from vm-a again', async () => {
    const fake = fakeContext(stateC());
    fake.failOn.set('plug vm-b', new Error('plug refused on vm-b'));
    const { outcome, record } = await executePlan(move(), fake.ctx, { trigger: 'test' });
    expect(outcome).toBe('rolled-back');
    expect(record).toMatchObject({ result: 'failed', error: 'plug refused on vm-b' });
    expect(actions(fake)).toEqual([
      'stop vm-a A',
      'unplug vm-a A',
      'detach-disk vm-a A',
      'attach-disk vm-b A',
      'plug vm-b A 128',
      'detach-disk vm-b A',
      'attach-disk vm-a A again',
      'plug vm-a A 128',
      'confirm vm-a A',
      'start vm-a A',
      'healthy vm-a A',
      'serve A from vm-a',
    ]);
    expect(fake.blocked).toEqual([]);
    expect(findArea(fake.table.current, appAreaName('A'))?.user).toBe('vm-a');
  });

  it('blocks when the stop itself fails: nothing is undone, the app may still run', async () => {
    const fake = fakeContext(stateC());
    fake.failOn.set('stop vm-a', new Error('kill failed'));
    const { outcome } = await executePlan(move(), fake.ctx, { trigger: 'test' });
    expect(outcome).toBe('blocked');
    expect(fake.blocked).toEqual(['moving A failed: kill failed']);
  });

  it('gives way to a bigger failover when told to, undoing nothing', async () => {
    const fake = fakeContext(stateC());
    fake.failOn.set('unplug vm-a', new Error('stuck'));
    const { outcome, record } = await executePlan(move(), fake.ctx, {
      trigger: 'test',
      onStepFailed: () => 'escalate',
    });
    expect([outcome, record.result]).toEqual(['escalate', 'failed']);
    expect(actions(fake)).toEqual(['stop vm-a A', 'unplug vm-a A']);
  });

  it('ends failed with nothing done when prepare refuses', async () => {
    const fake = fakeContext(stateC());
    const { outcome } = await executePlan(move(), fake.ctx, {
      trigger: 'test',
      prepare: async () => {
        throw new Error('no free root port');
      },
    });
    expect(outcome).toBe('failed');
    expect(actions(fake)).toEqual([]);
    expect(fake.calls.at(-1)).toBe('journal close failed');
  });
});

describe('executePlan: a resumed operation', () => {
  const AT = '2025-01-01T00:00:00.000Z';
  const interruptedMove = (upTo: 'stop' | 'plug') => {
    let op = createOperation({
      id: 'op-9',
      kind: 'app',
      app: 'A',
      fromVm: 'vm-a',
      toVm: 'vm-b',
      trigger: 't',
      startedAt: AT,
    });
    const order = ['stop', 'unplug', 'disk-detach', 'disk', 'plug'] as const;
    for (const phase of order.slice(0, order.indexOf(upTo)))
      op = endPhase(beginPhase(op, phase, AT), phase, 'ok', AT);
    return beginPhase(op, upTo, AT);
  };

  it('re-checks the steps before the interrupted one unjournaled, then journals from there; a running app is not started twice', async () => {
    const fake = fakeContext(stateC());
    fake.running.add('vm-b/A');
    const op = interruptedMove('plug');
    const plan = planResume(stateC(), op, [A]);
    const { outcome, record } = await executePlan(plan, fake.ctx, { trigger: 't (resumed)', resumeOf: op });
    expect(outcome).toBe('succeeded');
    expect(record.id).toBe('op-9');
    expect(fake.calls.slice(0, 5)).toEqual([
      'journal adopt op-9',
      'unplug vm-a A',
      'detach-disk vm-a A',
      'attach-disk vm-b A again',
      'journal intent plug',
    ]);
    expect(actions(fake)).not.toContain('start vm-b A');
    expect(findArea(fake.table.current, appAreaName('A'))?.user).toBe('vm-b');
  });

  it('rolls back a move interrupted at its stop: only stops the app on the target if it runs there', async () => {
    const fake = fakeContext(stateC());
    fake.running.add('vm-b/A');
    const op = interruptedMove('stop');
    const { outcome, record } = await executePlan(planResume(stateC(), op, [A]), fake.ctx, {
      trigger: 't',
      resumeOf: op,
    });
    expect(outcome).toBe('rolled-back');
    expect(record.error).toBe('interrupted by a daemon restart; rolled back: A stays on vm-a');
    expect(actions(fake)).toEqual(['stop vm-b A']);
  });
});
