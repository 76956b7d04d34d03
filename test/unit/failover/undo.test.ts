import { describe, expect, it } from 'vitest';
import { executePlan } from '../../../src/failover/executor.js';
import { planAppMove, planResume } from '../../../src/failover/plan.js';
import { beginPhase, createOperation, endPhase, stepsOf } from '../../../src/state/operations.js';
import { beginUndo, endUndo, startRollBack } from '../../../src/state/roll-back.js';
import type { InFlightOperation, OperationPhase, StepRef } from '../../../src/state/types.js';
import { appAreaName, findArea } from '../../../src/table/index.js';
import { stateC } from '../table/fixtures.js';
import { actions, fakeContext } from './fake-context.js';

const A = { name: 'A', hasDisk: true };
const AT = '2025-01-01T00:00:00.000Z';
const move = () => planAppMove(stateC(), { app: A, toVm: 'vm-b' });

/** `op` journaled as a previous daemon left it: steps up to `failed` ok, `failed` failed, rolling back. */
function rollingBack(
  kind: 'app' | 'whole-vm',
  failed: OperationPhase,
  undone: OperationPhase[] = [],
): InFlightOperation {
  let op = createOperation({
    id: 'op-7',
    kind,
    ...(kind === 'app' ? { app: 'A' } : { apps: ['A'] }),
    fromVm: 'vm-a',
    toVm: 'vm-b',
    trigger: 't',
    startedAt: AT,
  });
  for (const step of stepsOf(op)) {
    op = beginPhase(op, step, AT);
    if (step.phase === failed) {
      op = endPhase(op, step, 'failed', AT, 'start refused');
      break;
    }
    op = endPhase(op, step, 'ok', AT);
  }
  op = startRollBack(op, { error: 'start refused', reason: 'moving A failed: start refused' }, AT);
  for (const phase of undone) {
    const ref: StepRef = { phase, app: 'A' };
    op = endUndo(beginUndo(op, ref, AT), ref, 'ok', AT);
  }
  return op;
}

describe('executePlan journals a roll-back', () => {
  it('marks the operation rolling back before the first undo, and journals each undo intent-first', async () => {
    const fake = fakeContext(stateC());
    fake.failOn.set('start vm-b', new Error('start refused'));
    const { outcome } = await executePlan(move(), fake.ctx, { trigger: 'test' });
    expect(outcome).toBe('rolled-back');
    const from = fake.calls.indexOf('journal failed start');
    expect(fake.calls.slice(from)).toEqual([
      'journal failed start',
      'journal rolling-back start refused',
      'journal intent undo-plug',
      'unplug vm-b A',
      'journal ok undo-plug',
      'journal intent undo-disk',
      'detach-disk vm-b A',
      'journal ok undo-disk',
      'journal intent undo-disk-detach',
      'attach-disk vm-a A again',
      'journal ok undo-disk-detach',
      'journal intent undo-unplug',
      'plug vm-a A 128',
      'confirm vm-a A',
      'journal ok undo-unplug',
      'journal intent undo-stop',
      'start vm-a A',
      'healthy vm-a A',
      'serve A from vm-a',
      'journal ok undo-stop',
      'journal close failed',
    ]);
  });

  it('journals a failing undo as failed and stops there', async () => {
    const fake = fakeContext(stateC());
    fake.failOn.set('start vm-b', new Error('start refused'));
    fake.failOn.set('unplug vm-b', new Error('device_del timed out'));
    const { outcome } = await executePlan(move(), fake.ctx, { trigger: 'test' });
    expect(outcome).toBe('blocked');
    expect(fake.calls.slice(-3)).toEqual([
      'unplug vm-b A',
      'journal failed undo-plug',
      'journal close blocked',
    ]);
    expect(fake.blocked).toEqual([
      'moving A failed: start refused; undoing plug failed: device_del timed out',
    ]);
  });

  it('marks nothing when nothing is armed (the stop failed)', async () => {
    const fake = fakeContext(stateC());
    fake.failOn.set('stop vm-a', new Error('stop refused'));
    await executePlan(move(), fake.ctx, { trigger: 'test' });
    expect(fake.calls.some((line) => line.startsWith('journal rolling-back'))).toBe(false);
  });

  it('kills the daemon at an undo crash point, right after that undo intent is on disk', async () => {
    const fake = fakeContext(stateC());
    fake.failOn.set('start vm-b', new Error('start refused'));
    let crashedAfter = '';
    await executePlan(move(), fake.ctx, {
      trigger: 'test',
      env: { BATON_FAULT_POINT: 'undo-disk:crash' },
      crash: () => {
        crashedAfter = fake.calls.at(-1) ?? '';
      },
    });
    expect(crashedAfter).toBe('journal intent undo-disk');
  });
});

describe('a fail point', () => {
  it('fails its step without acting, journaled as failed, and the roll-back follows', async () => {
    const fake = fakeContext(stateC());
    const { outcome, record } = await executePlan(move(), fake.ctx, {
      trigger: 'test',
      env: { BATON_FAULT_POINT: 'start:fail' },
    });
    expect(outcome).toBe('rolled-back');
    expect(record.error).toBe('fault point start:fail: start failed without acting');
    expect(actions(fake)).not.toContain('start vm-b A');
    expect(fake.calls).toContain('journal failed start');
    expect(fake.calls).toContain('journal rolling-back fault point start:fail: start failed without acting');
  });
});

describe('executePlan continues a roll-back a restart interrupted', () => {
  it('runs only the undos left, in reverse, then closes failed with the original error', async () => {
    const fake = fakeContext(stateC());
    const op = rollingBack('app', 'start', ['plug']);
    const { outcome, record } = await executePlan(planResume(stateC(), op, [A]), fake.ctx, {
      trigger: 't (resumed)',
      resumeOf: op,
    });
    expect(outcome).toBe('rolled-back');
    expect(record).toMatchObject({ id: 'op-7', result: 'failed', error: 'start refused' });
    expect(actions(fake)).toEqual([
      'detach-disk vm-b A',
      'attach-disk vm-a A again',
      'plug vm-a A 128',
      'confirm vm-a A',
      'start vm-a A',
      'healthy vm-a A',
      'serve A from vm-a',
    ]);
    expect(fake.calls).not.toContain('journal rolling-back start refused');
    expect(fake.calls).toContain('journal intent undo-disk');
    expect(fake.blocked).toEqual([]);
    expect(findArea(fake.table.current, appAreaName('A'))?.user).toBe('vm-a');
  });

  it('does not start the app on the source twice when the undo of the stop had started it', async () => {
    const fake = fakeContext(stateC());
    fake.running.add('vm-a/A');
    const op = rollingBack('app', 'start', ['plug', 'disk', 'disk-detach', 'unplug']);
    await executePlan(planResume(stateC(), op, [A]), fake.ctx, { trigger: 't', resumeOf: op });
    expect(actions(fake)).toEqual(['healthy vm-a A', 'serve A from vm-a']);
  });

  it('blocks a whole-VM failover with the saved reason once its undos ran: the failed VM is not undone', async () => {
    const fake = fakeContext(stateC());
    const op = rollingBack('whole-vm', 'start');
    const plan = planResume(stateC(), op, [A]);
    const { outcome, record } = await executePlan(plan, fake.ctx, { trigger: 't', resumeOf: op });
    expect(outcome).toBe('blocked');
    expect(record).toMatchObject({ result: 'blocked', error: 'start refused' });
    expect(actions(fake)).toEqual(['unplug vm-b A', 'detach-disk vm-b A']);
    expect(fake.blocked).toEqual(['moving A failed: start refused']);
  });

  it('blocks with both reasons when an undo fails again', async () => {
    const fake = fakeContext(stateC());
    fake.failOn.set('detach-disk vm-b', new Error('device_del timed out'));
    const op = rollingBack('app', 'start', ['plug']);
    const { outcome } = await executePlan(planResume(stateC(), op, [A]), fake.ctx, {
      trigger: 't',
      resumeOf: op,
    });
    expect(outcome).toBe('blocked');
    expect(fake.blocked).toEqual([
      'moving A failed: start refused; undoing disk failed: device_del timed out',
    ]);
  });
});
