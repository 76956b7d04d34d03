import { describe, expect, it } from 'vitest';
import { renderMarkdownReport } from '../../../src/bench/markdown.js';
import { computeRatios, computeStandbyFootprints } from '../../../src/bench/ratios.js';
import { BENCH_PHASES } from '../../../src/bench/report.js';
import { rowCells } from '../../fixtures/bench/markdown-rows.js';
import { sampleReport } from '../../fixtures/bench/sample-report.js';

function reportWithRatios() {
  const report = sampleReport();
  report.ratios = computeRatios(report);
  report.scaling.standbyFootprint = computeStandbyFootprints(report.scaling.bySize);
  return report;
}

describe('renderMarkdownReport', () => {
  const markdown = renderMarkdownReport(reportWithRatios());
  const lines = markdown.split('\n');

  it('has a recovery row per scenario with the total and every phase, and the cold restart row', () => {
    expect(rowCells(lines, 'scenario')).toEqual(['scenario', 'total', ...BENCH_PHASES, 'accel']);
    expect(rowCells(lines, 'guest-panic (whole-vm, 128 MiB)')).toEqual([
      'guest-panic (whole-vm, 128 MiB)',
      '**1200 (1000–1400)**',
      '150 (150–150)',
      '20 (20–20)',
      '0 (0–0)',
      '100 (100–100)',
      '0 (0–0)',
      '500 (500–500)',
      '430 (230–630)',
      '0 (0–0)',
      'TCG',
    ]);
    expect(rowCells(lines, 'baseline: cold restart (128 MiB)')?.[1]).toBe('**6000**');
  });

  it('describes the machine', () => {
    expect(markdown).toContain(
      'Machine: 2 cores (Test CPU), 24.0 GiB RAM, Linux 6.1.0, Node 20.19.0, QEMU emulator version 7.2.0.',
    );
  });

  it('states the accelerator with its reason and names it in every table', () => {
    expect(markdown).toContain('Accelerator: **TCG** (no /dev/kvm)');
    const headings = lines.filter((l) => l.startsWith('## ') && l !== '## Ratios' && l !== '## Not measured');
    for (const heading of headings) expect(heading).toContain('TCG');
  });

  it('quotes the ratios', () => {
    expect(markdown).toContain('- recovery (guest panic) / cold restart: **0.2** (TCG)');
    expect(markdown).toContain('- pair memory given to guests / static full-size standby: **0.71**');
    expect(markdown).toContain('from 1250 ms at 128 MiB to 2500 ms at 1 GiB: **×2**');
  });

  it('lists the sections that could not be measured', () => {
    const report = reportWithRatios();
    report.errors.push({ section: 'cold restart', message: 'QEMU is missing' });
    expect(renderMarkdownReport(report)).toContain('## Not measured\n\n- cold restart: QEMU is missing');
  });
});
