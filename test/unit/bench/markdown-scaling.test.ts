import { describe, expect, it } from 'vitest';
import { renderScaling } from '../../../src/bench/markdown-scaling.js';
import { computeStandbyFootprints } from '../../../src/bench/ratios.js';
import { rowCells } from '../../fixtures/bench/markdown-rows.js';
import { sampleReport } from '../../fixtures/bench/sample-report.js';

describe('renderScaling', () => {
  const report = sampleReport();
  report.scaling.standbyFootprint = computeStandbyFootprints(report.scaling.bySize);
  const lines = renderScaling(report).join('\n').split('\n');

  it('shows the standby footprint against the largest app it took over', () => {
    expect(rowCells(lines, '96 MiB')).toEqual(['96 MiB', '170 MiB', '1 GiB', 'TCG']);
  });

  it("shows each size's memory given to the guests against a static standby", () => {
    expect(rowCells(lines, '1 GiB')?.[5]).toBe('1216 MiB / 2240 MiB (0.54)');
  });

  it('shows a scaling point that failed with its error', () => {
    expect(rowCells(lines, '4 GiB')?.[3]).toBe('failed: Memory plug stuck');
  });

  it('shows every number of apps with its recovery and summed plug time', () => {
    expect(rowCells(lines, '2')).toEqual(['2', '128 MiB', '2400', '200', 'TCG']);
  });

  it('has no section without scaling figures', () => {
    expect(renderScaling({ ...report, scaling: { bySize: [], byAppCount: [] } })).toEqual([]);
  });
});
