import { describe, expect, it } from 'vitest';
import { beginPhase, createOperation, endPhase, stepsOf } from '../../../src/state/operations.js';
import { planRecovery, type RecoveryCheck } from '../../../src/state/recovery.js';
import { beginUndo, endUndo, startRollBack } from '../../../src/state/roll-back.js';
import type { InFlightOperation, OperationPhase, PhaseOutcome } from '../../../src/state/types.js';

const AT = '2025-01-01T00:00:00.000Z';

const wholeVm = createOperation({
  id: 'op-1',
  kind: 'whole-vm',
  apps: ['A'],
  fromVm: 'vm-a',
  toVm: 'vm-b',
  trigger: 'GUEST_PANICKED on vm-a',
  startedAt: AT,
});

const appMove = createOperation({
  id: 'op-2',
  kind: 'app',
  app: 'A',
  fromVm: 'vm-a',
  toVm: 'vm-b',
  trigger: 'A exited',
  startedAt: AT,
});

/** `op` with every step before `phase` done, and `phase` itself in intent, or done with `outcome`. */
function reached(
  op: InFlightOperation,
  phase: OperationPhase,
  state: 'intent' | 'done',
  outcome: PhaseOutcome = 'ok',
): InFlightOperation {
  let next = op;
  for (const step of stepsOf(op)) {
    next = beginPhase(next, step, AT);
    if (step.phase === phase) return state === 'intent' ? next : endPhase(next, step, outcome, AT);
    next = endPhase(next, step, 'ok', AT);
  }
  throw new Error(`${phase} is not a step of ${op.kind}`);
}

const OLD: RecoveryCheck = 'old-vm-stopped';
const TARGET: RecoveryCheck = 'app-not-running-on-target';
const SOURCE: RecoveryCheck = 'app-stopped-on-source';

describe('planRecovery for a whole-VM failover', () => {
  it('fences first when no phase had begun', () => {
    expect(planRecovery(wholeVm)).toMatchObject({ action: 'finish', next: { phase: 'fence' }, verify: [] });
  });

  it.each<[OperationPhase, 'intent' | 'done', OperationPhase | 'close', RecoveryCheck[]]>([
    ['fence', 'intent', 'fence', []],
    ['fence', 'done', 'disk', [OLD]],
    ['disk', 'intent', 'disk', [OLD]],
    ['disk', 'done', 'plug', [OLD]],
    ['plug', 'intent', 'plug', [OLD]],
    ['plug', 'done', 'confirm', [OLD]],
    ['confirm', 'intent', 'confirm', [OLD]],
    ['confirm', 'done', 'start', [OLD]],
    ['start', 'intent', 'start', [OLD, TARGET]],
    ['start', 'done', 'healthy', [OLD]],
    ['healthy', 'intent', 'healthy', [OLD]],
    ['healthy', 'done', 'commit', [OLD]],
    ['commit', 'intent', 'commit', [OLD]],
    ['commit', 'done', 'close', [OLD]],
  ])('%s %s: finishes forward with %s, verifying %j', (phase, state, next, verify) => {
    const plan = planRecovery(reached(wholeVm, phase, state));
    expect([plan.action, plan.next.phase, plan.verify]).toEqual(['finish', next, verify]);
  });

  it('fences again, never assuming, when the fence failed before the failover was closed', () => {
    const plan = planRecovery(reached(wholeVm, 'fence', 'done', 'failed'));
    expect([plan.action, plan.next.phase, plan.verify]).toEqual(['finish', 'fence', []]);
  });

  it('runs a failed plug once more after re-verifying the fence', () => {
    const plan = planRecovery(reached(wholeVm, 'plug', 'done', 'failed'));
    expect([plan.action, plan.next, plan.verify]).toEqual(['finish', { phase: 'plug', app: 'A' }, [OLD]]);
  });

  it('names the app of a per-app phase it resumes', () => {
    expect(planRecovery(reached(wholeVm, 'fence', 'done')).next).toEqual({ phase: 'disk', app: 'A' });
  });

  it('says why redoing an interrupted start is safe', () => {
    expect(planRecovery(reached(wholeVm, 'start', 'intent')).reason).toBe(
      'start for A was interrupted (intent written); run it again: the agent is asked first; the app starts only if it is not running',
    );
  });

  it('goes straight from the fence to the commit when no app moves', () => {
    const empty = createOperation({ ...wholeVm, apps: [] });
    const plan = planRecovery(reached(empty, 'fence', 'done'));
    expect([plan.next.phase, plan.reason]).toEqual(['commit', 'fence completed; continue with commit']);
  });
});

describe('planRecovery for an app move', () => {
  it('rolls back when no phase had begun', () => {
    expect(planRecovery(appMove)).toMatchObject({
      action: 'roll-back',
      next: { phase: 'restart-on-source', app: 'A' },
    });
  });

  it.each<'intent' | 'done'>(['intent', 'done'])(
    'rolls back from stop %s: nothing left the source',
    (state) => {
      const plan = planRecovery(reached(appMove, 'stop', state));
      expect([plan.action, plan.next.phase, plan.verify]).toEqual(['roll-back', 'restart-on-source', []]);
    },
  );

  it.each<[OperationPhase, 'intent' | 'done', OperationPhase | 'close', RecoveryCheck[]]>([
    ['unplug', 'intent', 'unplug', [SOURCE]],
    ['unplug', 'done', 'disk-detach', [SOURCE]],
    ['disk-detach', 'intent', 'disk-detach', [SOURCE]],
    ['disk-detach', 'done', 'disk', [SOURCE]],
    ['disk', 'intent', 'disk', [SOURCE]],
    ['disk', 'done', 'plug', [SOURCE]],
    ['plug', 'intent', 'plug', [SOURCE]],
    ['plug', 'done', 'confirm', [SOURCE]],
    ['confirm', 'intent', 'confirm', [SOURCE]],
    ['confirm', 'done', 'start', [SOURCE]],
    ['start', 'intent', 'start', [SOURCE, TARGET]],
    ['start', 'done', 'healthy', [SOURCE]],
    ['healthy', 'intent', 'healthy', [SOURCE]],
    ['healthy', 'done', 'commit', [SOURCE]],
    ['commit', 'intent', 'commit', [SOURCE]],
    ['commit', 'done', 'close', [SOURCE]],
  ])('%s %s: finishes forward with %s, verifying %j', (phase, state, next, verify) => {
    const plan = planRecovery(reached(appMove, phase, state));
    expect([plan.action, plan.next.phase, plan.verify]).toEqual(['finish', next, verify]);
  });
});

describe('planRecovery for an operation found rolling back', () => {
  const failure = { error: 'start refused', reason: 'failover failed: start refused' };
  const undo = (op: InFlightOperation, phase: OperationPhase, outcome?: PhaseOutcome) => {
    const begun = beginUndo(op, { phase, app: 'A' }, AT);
    return outcome === undefined ? begun : endUndo(begun, { phase, app: 'A' }, outcome, AT);
  };

  it('continues the undos left, newest first, never forward, after the plug was undone', () => {
    const failed = startRollBack(reached(wholeVm, 'start', 'done', 'failed'), failure, AT);
    const plan = planRecovery(undo(failed, 'plug', 'ok'));
    expect(plan).toEqual({
      action: 'roll-back',
      next: { phase: 'disk', app: 'A' },
      verify: [],
      reason: 'start for A failed (start refused) and the roll-back was interrupted: undo disk for A',
      undos: [{ phase: 'disk', app: 'A' }],
    });
  });

  it('runs an undo interrupted after its intent again', () => {
    const failed = startRollBack(reached(appMove, 'plug', 'done', 'failed'), failure, AT);
    const plan = planRecovery(undo(failed, 'disk'));
    expect(plan.undos).toEqual(
      ['disk', 'disk-detach', 'unplug', 'stop'].map((phase) => ({ phase, app: 'A' })),
    );
  });

  it('only closes once every undo succeeded', () => {
    let op = startRollBack(reached(appMove, 'unplug', 'done', 'failed'), failure, AT);
    op = undo(op, 'stop', 'ok');
    expect(planRecovery(op)).toMatchObject({ action: 'roll-back', next: { phase: 'close' }, undos: [] });
  });
});
