import { describe, expect, it } from 'vitest';
import { OperationPhaseError } from '../../../src/errors.js';
import {
  beginPhase,
  createOperation,
  endPhase,
  isOperationOver,
  stepsOf,
} from '../../../src/state/operations.js';
import type { InFlightOperation } from '../../../src/state/types.js';

const AT = '2025-01-01T00:00:00.000Z';
const LATER = '2025-01-01T00:00:00.040Z';

function wholeVm(apps: string[] = ['A', 'B']): InFlightOperation {
  return createOperation({
    id: 'op-1',
    kind: 'whole-vm',
    apps,
    fromVm: 'vm-a',
    toVm: 'vm-b',
    trigger: 'GUEST_PANICKED on vm-a',
    startedAt: AT,
  });
}

function appMove(): InFlightOperation {
  return createOperation({
    id: 'op-2',
    kind: 'app',
    app: 'A',
    fromVm: 'vm-a',
    toVm: 'vm-b',
    trigger: 'A exited',
    startedAt: AT,
  });
}

/** `op` after each named phase ran to `ok`, in order. */
function ran(op: InFlightOperation, ...phases: Parameters<typeof beginPhase>[1][]): InFlightOperation {
  return phases.reduce<InFlightOperation>(
    (next, phase) => endPhase(beginPhase(next, phase, AT), phase, 'ok', LATER),
    op,
  );
}

function refusal(action: () => unknown): OperationPhaseError {
  try {
    action();
  } catch (error) {
    if (error instanceof OperationPhaseError) return error;
    throw error;
  }
  throw new Error('expected an OperationPhaseError, nothing was thrown');
}

describe('stepsOf', () => {
  it('lists a whole-VM failover: fence, the place phases per app in order, commit', () => {
    expect(
      stepsOf(wholeVm(['A', 'B'])).map((s) => (s.app === undefined ? s.phase : `${s.phase}:${s.app}`)),
    ).toEqual([
      'fence',
      'disk:A',
      'plug:A',
      'confirm:A',
      'start:A',
      'healthy:A',
      'disk:B',
      'plug:B',
      'confirm:B',
      'start:B',
      'healthy:B',
      'commit',
    ]);
  });

  it('lists an app move: release on the source, place on the target, commit', () => {
    expect(stepsOf(appMove()).map((step) => step.phase)).toEqual([
      'stop',
      'unplug',
      'disk-detach',
      'disk',
      'plug',
      'confirm',
      'start',
      'healthy',
      'commit',
    ]);
  });
});

describe('beginPhase and endPhase', () => {
  it('records the intent of the first phase with no outcome yet', () => {
    const op = beginPhase(wholeVm(), 'fence', AT);
    expect([op.phase, op.phaseState, op.phaseOutcome]).toEqual(['fence', 'intent', undefined]);
    expect(op.history).toEqual([{ phase: 'fence', state: 'intent', startedAt: AT }]);
  });

  it('records the end of the phase with its outcome and detail in the same history entry', () => {
    const op = endPhase(beginPhase(wholeVm(), 'fence', AT), 'fence', 'ok', LATER, 'QEMU exit seen');
    expect([op.phaseState, op.phaseOutcome]).toEqual(['done', 'ok']);
    expect(op.history).toEqual([
      {
        phase: 'fence',
        state: 'done',
        startedAt: AT,
        endedAt: LATER,
        outcome: 'ok',
        detail: 'QEMU exit seen',
      },
    ]);
  });

  it('does not change the operation it was given', () => {
    const op = wholeVm();
    beginPhase(op, 'fence', AT);
    expect(op.history).toEqual([]);
  });

  it('resolves a per-app phase named without its app to the next app in order', () => {
    const op = beginPhase(ran(wholeVm(), 'fence', 'disk', 'plug', 'confirm', 'start', 'healthy'), 'disk', AT);
    expect([op.phase, op.phaseApp]).toEqual(['disk', 'B']);
  });

  it('lets the optional disk phase be skipped', () => {
    const op = beginPhase(ran(wholeVm(), 'fence'), 'plug', AT);
    expect([op.phase, op.phaseApp]).toEqual(['plug', 'A']);
  });

  it('refuses to skip a phase that is not optional', () => {
    expect(refusal(() => beginPhase(ran(wholeVm(), 'fence'), 'confirm', AT)).message).toBe(
      'Operation op-1: cannot begin confirm: plug for A has not run',
    );
  });

  it('refuses a new phase while the current one is still in intent', () => {
    expect(refusal(() => beginPhase(beginPhase(wholeVm(), 'fence', AT), 'plug', AT)).message).toBe(
      'Operation op-1: cannot begin plug: fence has not completed',
    );
  });

  it('refuses to go on after a phase that failed', () => {
    const failed = endPhase(beginPhase(wholeVm(), 'fence', AT), 'fence', 'failed', LATER, 'no exit seen');
    expect(refusal(() => beginPhase(failed, 'disk', AT)).message).toBe(
      'Operation op-1: cannot begin disk: fence has not completed',
    );
  });

  it('refuses a phase that is not part of the kind of failover', () => {
    expect(refusal(() => beginPhase(wholeVm(), 'unplug', AT)).message).toBe(
      'Operation op-1: cannot begin unplug: it is not a step of this whole-vm failover',
    );
  });

  it('refuses a phase that comes before the current one', () => {
    const op = ran(wholeVm(), 'fence', 'disk', 'plug');
    expect(refusal(() => beginPhase(op, { phase: 'disk', app: 'A' }, AT)).message).toBe(
      'Operation op-1: cannot begin disk for A: it comes before plug for A',
    );
  });

  it('begins the current phase again after an interruption, as a new history entry', () => {
    const op = beginPhase(beginPhase(ran(wholeVm(), 'fence'), 'plug', AT), 'plug', LATER);
    expect(op.history.map((step) => [step.phase, step.state])).toEqual([
      ['fence', 'done'],
      ['plug', 'intent'],
      ['plug', 'intent'],
    ]);
  });

  it('refuses to end a phase that is not the one in intent', () => {
    expect(refusal(() => endPhase(beginPhase(wholeVm(), 'fence', AT), 'disk', 'ok', LATER)).message).toBe(
      'Operation op-1: cannot end disk: fence is intent',
    );
  });

  it('refuses to begin anything after the commit, the commit included', () => {
    const op = ran(wholeVm([]), 'fence', 'commit');
    expect(refusal(() => beginPhase(op, 'commit', AT)).message).toBe(
      'Operation op-1: cannot begin commit: the failover is committed',
    );
  });

  it('refuses an earlier phase named without its app', () => {
    const op = ran(wholeVm(['A']), 'fence', 'disk', 'plug');
    expect(refusal(() => beginPhase(op, 'fence', AT)).message).toBe(
      'Operation op-1: cannot begin fence: it comes before plug for A',
    );
  });

  it('is over once committed', () => {
    expect(isOperationOver(ran(wholeVm([]), 'fence', 'commit'))).toBe(true);
  });

  it('is over once a phase failed', () => {
    expect(isOperationOver(endPhase(beginPhase(appMove(), 'stop', AT), 'stop', 'failed', LATER))).toBe(true);
  });

  it('refuses to create an app move without its app', () => {
    expect(() =>
      createOperation({ id: 'x', kind: 'app', fromVm: 'vm-a', toVm: 'vm-b', trigger: 't', startedAt: AT }),
    ).toThrow(OperationPhaseError);
  });
});
