import { describe, expect, it } from 'vitest';
import { faultPointAt, isCrashPoint } from '../../../src/failover/crash-point.js';

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

describe('faultPointAt', () => {
  it('reads several comma-separated points, each crash or fail', () => {
    const env = { BATON_FAULT_POINT: 'start:fail,undo-disk:crash' };
    expect(faultPointAt('start', true, env)).toBe('fail');
    expect(faultPointAt('start:kvd', true, env)).toBe('fail');
    expect(faultPointAt('undo-disk', true, env)).toBe('crash');
    expect(isCrashPoint('undo-disk:kvd', true, env)).toBe(true);
    expect(faultPointAt('disk', true, env)).toBeUndefined();
    expect(faultPointAt('start', false, env)).toBeUndefined();
  });
});
