import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findReportProblems } from '../../../src/bench/report.js';
import { fileStampOf, writeReport } from '../../../src/bench/write-report.js';
import { sampleReport } from '../../fixtures/bench/sample-report.js';

describe('fileStampOf', () => {
  it("is the run's UTC date and time to the minute", () => {
    expect(fileStampOf(new Date('2026-12-02T04:15:59.999Z'))).toBe('2026-12-02-0415');
  });
});

describe('writeReport', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-bench-report-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the JSON, the Markdown and the SVG under the stamp', async () => {
    const paths = await writeReport(sampleReport(), join(dir, 'results'), '2026-12-02-0415');
    expect(paths.jsonPath).toBe(join(dir, 'results', '2026-12-02-0415.json'));
    expect(findReportProblems(JSON.parse(await readFile(paths.jsonPath, 'utf8')))).toEqual([]);
    expect(await readFile(paths.markdownPath, 'utf8')).toMatch(/^# baton benchmarks/);
    expect(await readFile(paths.svgPath, 'utf8')).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
  });
});
