import { describe, expect, it } from 'vitest';
import { isCrashPoint } from '../../../src/failover/crash-point.js';

describe('isCrashPoint', () => {
  it('honours BATON_FAULT_POINT only when fault injection is allowed', () => {
    const env = { BATON_FAULT_POINT: 'plug:crash' };
    expect(isCrashPoint('plug', true, env)).toBe(true);
    expect(isCrashPoint('plug:kvd', true, env)).toBe(true);
    expect(isCrashPoint('plug', false, env)).toBe(false);
    expect(isCrashPoint('fence', true, env)).toBe(false);
    expect(isCrashPoint('fence', true, {})).toBe(false);
  });

  it('ignores a point that does not ask for a crash', () => {
    expect(isCrashPoint('plug', true, { BATON_FAULT_POINT: 'plug' })).toBe(false);
  });
});
