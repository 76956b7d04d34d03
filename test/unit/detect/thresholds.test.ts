import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HANG_THRESHOLDS,
  heartbeatSilenceFor,
  resolveHangThresholds,
} from '../../../src/detect/thresholds.js';
import { InvalidInputError } from '../../../src/errors.js';

describe('hang thresholds', () => {
  it('defaults to 1500 ms silence, 1000 ms sync, 2000 ms QMP and a check every 250 ms', () => {
    expect(resolveHangThresholds()).toEqual({
      heartbeatSilenceMs: 1500,
      syncTimeoutMs: 1000,
      qmpTimeoutMs: 2000,
      checkIntervalMs: 250,
    });
    expect(resolveHangThresholds()).toEqual(DEFAULT_HANG_THRESHOLDS);
  });

  it('allows three heartbeat periods of silence, never less than 1500 ms', () => {
    expect(heartbeatSilenceFor(1000)).toBe(3000);
    expect(heartbeatSilenceFor(200)).toBe(1500);
    expect(resolveHangThresholds({}, 2000).heartbeatSilenceMs).toBe(6000);
  });

  it('prefers a configured value to the one derived from the heartbeat period', () => {
    const thresholds = resolveHangThresholds({ heartbeatSilenceMs: 2500, syncTimeoutMs: 400 }, 2000);
    expect(thresholds).toMatchObject({ heartbeatSilenceMs: 2500, syncTimeoutMs: 400, qmpTimeoutMs: 2000 });
  });

  it('rejects a threshold that is not a positive number of ms', () => {
    expect(() => resolveHangThresholds({ qmpTimeoutMs: 0 })).toThrow(InvalidInputError);
    expect(() => resolveHangThresholds({ checkIntervalMs: Number.NaN })).toThrow(
      'hang threshold checkIntervalMs: expected a positive number of ms, got NaN',
    );
  });
});
