import { describe, expect, it } from 'vitest';
import {
  APP_MOVE_PHASES,
  isOperationPhase,
  OPERATION_PHASES,
  WHOLE_VM_PHASES,
} from '../../../src/state/phases.js';
import { phaseStepSchema } from '../../../src/state/schema.js';

describe('the phase list', () => {
  it('orders a whole-VM failover and an app move as the design says', () => {
    expect(WHOLE_VM_PHASES).toEqual(['fence', 'disk', 'plug', 'confirm', 'start', 'healthy', 'commit']);
    expect(APP_MOVE_PHASES).toEqual([
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

  it('knows every phase once and nothing else', () => {
    expect(new Set(OPERATION_PHASES).size).toBe(OPERATION_PHASES.length);
    expect(OPERATION_PHASES.every(isOperationPhase)).toBe(true);
    expect(isOperationPhase('reprotect')).toBe(false);
    expect(isOperationPhase('undo')).toBe(false);
  });

  it('is the list the state schema accepts, and no other name', () => {
    const step = (phase: string) => ({ phase, state: 'intent', startedAt: '2025-01-01T00:00:00.000Z' });
    for (const phase of OPERATION_PHASES) expect(phaseStepSchema.safeParse(step(phase)).success).toBe(true);
    expect(phaseStepSchema.safeParse(step('undo')).success).toBe(false);
  });
});
