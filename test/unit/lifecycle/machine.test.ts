import { describe, expect, it } from 'vitest';
import {
  FAULT_SIGNALS,
  LIFECYCLE_STATES,
  type LifecycleState,
  lifecycleStateOf,
  type Reaction,
  SUBJECTS,
  type Subject,
  TRANSITIONS,
  transitionFor,
} from '../../../src/lifecycle/machine.js';

/** The spec, one line per (state, subject): reaction to a VM fault (panic, hang, qemu-exit, qmp-loss), to `request`, to `app-exit`. */
const SPEC: Record<LifecycleState, Record<Subject, [vm: Reaction, request: Reaction, app: Reaction]>> = {
  booting: {
    serving: ['fail-start', 'fail-start', 'fail-start'],
    spare: ['fail-start', 'fail-start', 'log'],
  },
  protected: {
    serving: ['fail-over', 'fail-over', 'app-policy'],
    spare: ['replace-standby', 'replace-standby', 'log'],
  },
  'failing-over': { serving: ['join', 'join', 'join'], spare: ['abort', 'abort', 'join'] },
  moving: { serving: ['escalate', 'escalate', 'join'], spare: ['abort', 'abort', 'join'] },
  're-protecting': {
    serving: ['queue', 'queue', 'app-policy'],
    spare: ['replace-standby', 'replace-standby', 'log'],
  },
  unprotected: {
    serving: ['queue-and-boot', 'queue-and-boot', 'app-policy'],
    spare: ['replace-standby', 'replace-standby', 'log'],
  },
  blocked: { serving: ['hold', 'hold', 'hold'], spare: ['hold', 'hold', 'hold'] },
  stopping: { serving: ['expected', 'expected', 'expected'], spare: ['expected', 'expected', 'expected'] },
};

const cases = LIFECYCLE_STATES.flatMap((state) =>
  SUBJECTS.flatMap((subject) => FAULT_SIGNALS.map((signal) => [state, subject, signal] as const)),
);

describe('the lifecycle machine', () => {
  it('defines every (state, subject, signal): 8 states x 2 subjects x 6 signals', () => {
    expect(cases).toHaveLength(96);
    for (const [state, subject, signal] of cases) {
      expect(TRANSITIONS[state][subject][signal], `${state} ${subject} ${signal}`).toBeDefined();
    }
  });

  it.each(cases)('in %s, %s VM, %s: the reaction the spec names', (state, subject, signal) => {
    const [vm, request, app] = SPEC[state][subject];
    const expected = signal === 'app-exit' ? app : signal === 'request' ? request : vm;
    expect(transitionFor(state, subject, signal).reaction).toBe(expected);
  });

  it.each(cases)('in %s, %s VM, %s: the next state follows from the reaction', (state, subject, signal) => {
    const { reaction, next } = transitionFor(state, subject, signal);
    const byReaction: Partial<Record<Reaction, LifecycleState>> = {
      'fail-over': 'failing-over',
      escalate: 'failing-over',
      'replace-standby': 're-protecting',
      'queue-and-boot': 're-protecting',
      abort: 'blocked',
      'fail-start': 'stopping',
    };
    expect(next).toBe(byReaction[reaction] ?? state);
  });

  it('never drops a fault of a serving VM: each one acts, joins the operation on it, or is kept', () => {
    const kept: Reaction[] = ['queue', 'queue-and-boot', 'hold', 'expected', 'join', 'fail-start'];
    for (const state of LIFECYCLE_STATES) {
      for (const signal of FAULT_SIGNALS) {
        const { reaction } = transitionFor(state, 'serving', signal);
        expect(reaction, `${state} ${signal}`).not.toBe('log');
        if (!kept.includes(reaction))
          expect(['fail-over', 'app-policy', 'escalate', 'abort']).toContain(reaction);
      }
    }
  });
});

describe('the lifecycle state derived from facts', () => {
  const running = { phase: 'running', operation: undefined, isStandbyBooting: false } as const;

  it.each([
    [{ ...running, phase: 'starting', isStandbyReady: false }, 'booting'],
    [{ ...running, isStandbyReady: true }, 'protected'],
    [{ ...running, operation: 'whole-vm', isStandbyReady: true }, 'failing-over'],
    [{ ...running, operation: 'app-move', isStandbyReady: true }, 'moving'],
    [{ ...running, isStandbyBooting: true, isStandbyReady: false }, 're-protecting'],
    [{ ...running, isStandbyReady: false }, 'unprotected'],
    [{ ...running, phase: 'blocked', operation: 'whole-vm', isStandbyReady: true }, 'blocked'],
    [{ ...running, phase: 'stopping', isStandbyReady: true }, 'stopping'],
  ] as const)('%o is %s', (facts, state) => {
    expect(lifecycleStateOf(facts)).toBe(state);
  });

  it('is never protected without a ready standby', () => {
    for (const operation of [undefined, 'whole-vm', 'app-move'] as const)
      for (const isStandbyBooting of [false, true])
        expect(
          lifecycleStateOf({ phase: 'running', operation, isStandbyBooting, isStandbyReady: false }),
        ).not.toBe('protected');
  });
});
