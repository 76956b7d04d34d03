import { describe, expect, it } from 'vitest';
import { plugMsOf, toBenchPhases } from '../../../src/bench/phases.js';

const injectedAtWallMs = Date.parse('2026-12-02T04:00:00.000Z');

describe('toBenchPhases', () => {
  it('maps a whole-VM timeline and counts detection from the injection', () => {
    const phases = toBenchPhases(
      {
        startedAt: '2026-12-02T04:00:00.140Z',
        phases: [
          { name: 'detect', ms: 2 },
          { name: 'fence', ms: 12 },
          { name: 'disk', ms: 8 },
          { name: 'plug', ms: 55 },
          { name: 'confirm', ms: 176 },
          { name: 'start', ms: 644 },
          { name: 'healthy', ms: 341 },
          { name: 'commit', ms: 1 },
          { name: 'reprotect', ms: 7000 },
        ],
      },
      { injectedAtWallMs, totalMs: 1500 },
    );
    expect(phases).toEqual({
      detect: 142,
      fence: 12,
      disk: 8,
      plug: 55,
      confirm: 176,
      start: 644,
      healthy: 341,
      route: 1500 - 142 - 12 - 8 - 55 - 176 - 644 - 341,
    });
  });

  it("counts an app move's stop, unplug and disk-detach as its fence", () => {
    const phases = toBenchPhases(
      {
        startedAt: '2026-12-02T04:00:00.300Z',
        phases: [
          { name: 'stop', ms: 351 },
          { name: 'unplug', ms: 908 },
          { name: 'disk-detach', ms: 365 },
          { name: 'plug', ms: 62 },
        ],
      },
      { injectedAtWallMs, totalMs: 3000 },
    );
    expect(phases.fence).toBe(351 + 908 + 365);
    expect(phases.detect).toBe(300);
  });

  it('sums the per-app phases of a multi-app failover', () => {
    const record = {
      startedAt: '2026-12-02T04:00:00.000Z',
      phases: [
        { name: 'plug:kvd-0', ms: 50 },
        { name: 'start:kvd-0', ms: 500 },
        { name: 'plug:kvd-1', ms: 70 },
        { name: 'start:kvd-1', ms: 600 },
      ],
    };
    const phases = toBenchPhases(record, { injectedAtWallMs, totalMs: 2000 });
    expect(phases.plug).toBe(120);
    expect(phases.start).toBe(1100);
    expect(plugMsOf(record)).toBe(120);
  });

  it('never gives a negative detection or route', () => {
    const phases = toBenchPhases(
      { startedAt: '2026-12-02T03:59:59.990Z', phases: [{ name: 'start', ms: 900 }] },
      { injectedAtWallMs, totalMs: 800 },
    );
    expect(phases.detect).toBe(0);
    expect(phases.route).toBe(0);
  });
});
