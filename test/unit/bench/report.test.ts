import { describe, expect, it } from 'vitest';
import { BENCH_PHASES, benchReportSchema, findReportProblems } from '../../../src/bench/report.js';
import { sampleReport } from '../../fixtures/bench/sample-report.js';

describe('the report JSON', () => {
  it('accepts a full report, also after a JSON round trip', () => {
    const report = sampleReport();
    expect(findReportProblems(report)).toEqual([]);
    expect(findReportProblems(JSON.parse(JSON.stringify(report)))).toEqual([]);
  });

  it('keeps every phase of every recovery with its median and spread', () => {
    const [panic] = benchReportSchema.parse(sampleReport()).recovery;
    expect(Object.keys(panic?.phasesMs ?? {})).toEqual([...BENCH_PHASES]);
    expect(panic?.totalMs).toEqual({ median: 1200, min: 1000, max: 1400, runs: 3 });
  });

  it('names the field of a report without its accelerator', () => {
    const { accel: _accel, ...withoutAccel } = sampleReport();
    expect(findReportProblems(withoutAccel)).toContain(
      'accel: Invalid input: expected object, received undefined',
    );
  });

  it('refuses an unknown scenario', () => {
    const report = sampleReport();
    const broken = { ...report, recovery: [{ ...report.recovery[0], scenario: 'meteor' }] };
    expect(findReportProblems(broken).join('\n')).toContain('recovery.0.scenario');
  });
});
