// Renders a saved report again (its .md and .svg beside it) with the current code: `npx tsx bench/render.ts FILE.json`.
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { computeRatios, computeStandbyFootprints } from '../src/bench/ratios.js';
import { benchReportSchema } from '../src/bench/report.js';
import { writeReport } from '../src/bench/write-report.js';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: npx tsx bench/render.ts bench/results/<stamp>.json');
const report = benchReportSchema.parse(JSON.parse(await readFile(file, 'utf8')));
report.ratios = computeRatios(report);
report.scaling.standbyFootprint = computeStandbyFootprints(report.scaling.bySize);
const paths = await writeReport(report, dirname(file), basename(file, '.json'));
console.log(`wrote ${paths.jsonPath}, ${paths.markdownPath}, ${paths.svgPath}`);
