import { describe, expect, it } from 'vitest';
import { computeRatios, computeStandbyFootprints, givenMemoryOf } from '../../../src/bench/ratios.js';
import { sampleRealGuest, sampleReport } from '../../fixtures/bench/sample-report.js';

describe('computeRatios', () => {
  it('compares recovery with a cold restart, memory with a static standby, and the largest size with the smallest', () => {
    expect(computeRatios(sampleReport())).toEqual({
      recoveryVsColdRestart: 0.2,
      pairRssVsStaticStandby: 0.89,
      pairGivenVsStaticStandby: 0.71,
      recoveryGrowth: {
        fromBytes: 128 * 1048576,
        toBytes: 1024 * 1048576,
        fromMs: 1250,
        toMs: 2500,
        factor: 2,
      },
    });
  });

  it("compares the real guest's recovery with the cold restart of the same Debian VM", () => {
    expect(
      computeRatios({ ...sampleReport(), realGuest: sampleRealGuest() }).realGuestRecoveryVsColdRestart,
    ).toBe(0.05);
    const { coldRestart: _cold, ...noBaseline } = sampleRealGuest();
    expect(computeRatios({ ...sampleReport(), realGuest: noBaseline })).not.toHaveProperty(
      'realGuestRecoveryVsColdRestart',
    );
  });

  it('leaves out what the report has no figures for', () => {
    const { coldRestart: _cold, memory: _memory, ...report } = sampleReport();
    expect(computeRatios({ ...report, scaling: { bySize: [], byAppCount: [] } })).toEqual({});
  });
});

describe('computeStandbyFootprints', () => {
  it('gives each standby base the largest app it took over, leaving out sizes that failed', () => {
    expect(computeStandbyFootprints(sampleReport().scaling.bySize)).toEqual([
      { standbyBaseBytes: 96 * 1048576, standbyRssBytes: 170 * 1048576, largestAppBytes: 1024 * 1048576 },
    ]);
  });
});

describe('givenMemoryOf', () => {
  it("counts the app once in baton's pair and twice in a static standby", () => {
    expect(givenMemoryOf(192 * 1048576, 4096 * 1048576)).toEqual({
      pairBytes: (2 * 192 + 4096) * 1048576,
      staticBytes: 2 * (192 + 4096) * 1048576,
      ratio: 0.52,
    });
  });
});
