// Writes a report as `<stamp>.json`, `<stamp>.md` and `<stamp>.svg` in the results folder.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderMarkdownReport } from './markdown.js';
import type { BenchReport } from './report.js';
import { renderReportSvg } from './svg.js';

export interface ReportPaths {
  jsonPath: string;
  markdownPath: string;
  svgPath: string;
}

/** `2026-12-02-0415` (UTC): the run's date, with the time so two runs on one day do not collide. */
export function fileStampOf(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}`;
}

/** Writes the three files (each through a temp file and a rename, so a reader never sees half of one). */
export async function writeReport(report: BenchReport, outDir: string, stamp: string): Promise<ReportPaths> {
  await mkdir(outDir, { recursive: true });
  const paths = {
    jsonPath: join(outDir, `${stamp}.json`),
    markdownPath: join(outDir, `${stamp}.md`),
    svgPath: join(outDir, `${stamp}.svg`),
  };
  await writeAtomically(paths.jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  await writeAtomically(paths.markdownPath, renderMarkdownReport(report));
  await writeAtomically(paths.svgPath, renderReportSvg(report));
  return paths;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}
