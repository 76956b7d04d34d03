import { describe, expect, it } from 'vitest';
import { describeFigures, describeRun, summarizeRecovery } from '../../../src/bench/recovery.js';
import { phaseTimes } from '../../fixtures/bench/sample-report.js';

const runs = [
  {
    totalMs: 1500,
    phasesMs: phaseTimes({ detect: 200, plug: 100, route: 1200 }),
    trigger: 'qemu-exit on vm-a',
  },
  {
    totalMs: 1000,
    phasesMs: phaseTimes({ detect: 100, plug: 300, route: 600 }),
    trigger: 'qemu-exit on vm-b',
  },
];

describe('summarizeRecovery', () => {
  it('summarises the total and every phase over the runs, keeping each run', () => {
    const figures = summarizeRecovery('qemu-killed', 'whole-vm', 128 * 1048576, runs);
    expect(figures.totalMs).toEqual({ median: 1250, min: 1000, max: 1500, runs: 2 });
    expect(figures.phasesMs.plug).toEqual({ median: 200, min: 100, max: 300, runs: 2 });
    expect(figures.phasesMs.fence).toEqual({ median: 0, min: 0, max: 0, runs: 2 });
    expect(figures.runs.map((r) => r.trigger)).toEqual(['qemu-exit on vm-a', 'qemu-exit on vm-b']);
  });
});

describe('progress lines', () => {
  it("print a run's total and phases", () => {
    expect(describeRun(1500, phaseTimes({ detect: 200.4, plug: 99.6 }))).toBe(
      '1500 ms: detect 200, fence 0, disk 0, plug 100, confirm 0, start 0, healthy 0, route 0',
    );
  });

  it("print a scenario's median and spread with its accelerator", () => {
    const figures = summarizeRecovery('qemu-killed', 'whole-vm', 128 * 1048576, runs);
    expect(describeFigures(figures, 'tcg')).toBe(
      'qemu-killed (128 MiB): total 1250 (1000–1500) ms over 2 runs [TCG]',
    );
  });
});
