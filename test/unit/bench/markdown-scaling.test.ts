import { describe, expect, it } from 'vitest';
import { renderScaling } from '../../../src/bench/markdown-scaling.js';
import { computeStandbyFootprints } from '../../../src/bench/ratios.js';
import { sampleReport } from '../../fixtures/bench/sample-report.js';

describe('renderScaling', () => {
  const report = sampleReport();
  report.scaling.standbyFootprint = computeStandbyFootprints(report.scaling.bySize);
  const lines = renderScaling(report).join('\n').split('\n');

  it('shows the standby footprint against the largest app it took over', () => {
    expect(lines).toContain('| 96 MiB | 170 MiB | 1 GiB | TCG |');
  });

  it("shows each size's memory given to the guests against a static standby", () => {
    expect(lines.find((l) => l.startsWith('| 1 GiB'))).toContain('| 1216 MiB / 2240 MiB (0.54) |');
  });

  it('shows a scaling point that failed with its error', () => {
    expect(lines.find((l) => l.startsWith('| 4 GiB'))).toContain('failed: Memory plug stuck');
  });

  it('shows every number of apps with its recovery and summed plug time', () => {
    expect(lines.find((l) => l.startsWith('| 2 |'))).toBe('| 2 | 128 MiB | 2400 | 200 | TCG |');
  });

  it('has no section without scaling figures', () => {
    expect(renderScaling({ ...report, scaling: { bySize: [], byAppCount: [] } })).toEqual([]);
  });
});
