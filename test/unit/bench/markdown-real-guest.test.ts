import { describe, expect, it } from 'vitest';
import { renderMarkdownReport } from '../../../src/bench/markdown.js';
import { renderRealGuest } from '../../../src/bench/markdown-real-guest.js';
import { computeRatios } from '../../../src/bench/ratios.js';
import { BENCH_PHASES, findReportProblems } from '../../../src/bench/report.js';
import { rowCells } from '../../fixtures/bench/markdown-rows.js';
import { sampleRealGuest, sampleReport } from '../../fixtures/bench/sample-report.js';

function reportWithRealGuest() {
  const report = { ...sampleReport(), realGuest: sampleRealGuest() };
  report.ratios = computeRatios(report);
  return report;
}

describe('renderRealGuest', () => {
  it('shows the guest panic by phase against the cold restart of the same Debian VM, the ratio and the base memory', () => {
    const report = reportWithRealGuest();
    expect(findReportProblems(report)).toEqual([]);
    const lines = renderRealGuest(report);
    expect(lines[0]).toBe('## Real guest: redis in Debian (TCG)');
    expect(rowCells(lines.join('\n').split('\n'), 'scenario')).toEqual([
      'scenario',
      'total',
      ...BENCH_PHASES,
      'accel',
    ]);
    expect(
      rowCells(lines.join('\n').split('\n'), 'guest panic of the VM running redis (whole-vm, 256 MiB)'),
    ).toEqual([
      'guest panic of the VM running redis (whole-vm, 256 MiB)',
      '**8000**',
      '150',
      '50',
      '300',
      '400',
      '0',
      '2000',
      '5000',
      '100',
      'TCG',
    ]);
    expect(
      rowCells(
        lines.join('\n').split('\n'),
        'baseline: cold restart of the Debian VM with redis (256 MiB)',
      )?.slice(0, 4),
    ).toEqual([
      'baseline: cold restart of the Debian VM with redis (256 MiB)',
      '**160000**',
      'boot to agent 120000',
      'redis placed and answering 40000',
    ]);
    expect(lines).toContain(
      '- recovery (guest panic) / cold restart of the same Debian VM: **0.05** (TCG; target ≤ 0.05)',
    );
    expect(lines).toContain(
      "- the distro standby's base memory: **512 MiB**, its QEMU's host RSS while idle 300 MiB",
    );
  });

  it('says when the section got no figures, and is absent from a report that did not measure it', () => {
    const { recovery: _r, coldRestart: _c, ...bare } = sampleRealGuest();
    const lines = renderRealGuest({ ...sampleReport(), realGuest: bare });
    expect(lines).toContain('No figures: the section did not get that far (see Not measured).');
    expect(lines.some((line) => line.startsWith('- recovery'))).toBe(false);
    expect(renderRealGuest(sampleReport())).toEqual([]);
  });

  it('is part of the whole report, with its ratio among the ratios', () => {
    const markdown = renderMarkdownReport(reportWithRealGuest());
    expect(markdown).toContain('## Real guest: redis in Debian (TCG)');
    expect(markdown).toContain(
      '- real guest (Redis in Debian): recovery (guest panic) / cold restart: **0.05** (TCG)',
    );
  });

  it('leaves out the built-in recovery table in a run of the real guest alone', () => {
    const report = { ...reportWithRealGuest(), recovery: [] };
    const { coldRestart: _cold, ...rest } = report;
    const markdown = renderMarkdownReport(rest);
    expect(markdown).not.toContain('## Recovery, ms');
    expect(markdown).toContain('## Real guest: redis in Debian (TCG)');
  });
});
