// The report's scaling tables in Markdown: recovery against the app's memory and the number of apps, and the standby's footprint.
import { formatBytes } from '../units.js';
import { formatRssBytes, formatSpreadMs, renderMarkdownTable } from './markdown-table.js';
import { givenMemoryOf } from './ratios.js';
import type { BenchReport } from './report.js';

/** The scaling sections (none when the report has no scaling figures). */
export function renderScaling(report: BenchReport): string[] {
  const accel = report.accel.accel.toUpperCase();
  const { bySize, byAppCount } = report.scaling;
  const out: string[] = [];
  if (bySize.length > 0)
    out.push(
      `## Whole-VM recovery against the app's memory, ms (${accel}, ${report.scalingRuns} runs each)`,
      '',
      renderMarkdownTable(
        [
          'app memory',
          'standby base',
          'standby QEMU RSS',
          'recovery total',
          'plug',
          'given to guests: pair / static standby',
          'accel',
        ],
        bySize.map((p) => [
          formatBytes(p.appSizeBytes),
          formatBytes(p.standbyBaseBytes),
          p.standbyRssBytes === 0 ? 'n/a' : formatRssBytes(p.standbyRssBytes),
          p.error === undefined ? formatSpreadMs(p.totalMs) : `failed: ${p.error}`,
          p.error === undefined ? formatSpreadMs(p.plugMs) : '',
          formatGiven(p.standbyBaseBytes, p.appSizeBytes),
          accel,
        ]),
      ),
      '',
    );
  const footprints = report.scaling.standbyFootprint ?? [];
  if (footprints.length > 0)
    out.push(
      `## Standby footprint against the largest app it took over (${accel})`,
      '',
      renderMarkdownTable(
        ['standby base memory', 'standby QEMU RSS', 'largest app taken over in this run', 'accel'],
        footprints.map((f) => [
          formatBytes(f.standbyBaseBytes),
          formatRssBytes(f.standbyRssBytes),
          formatBytes(f.largestAppBytes),
          accel,
        ]),
      ),
      '',
    );
  if (byAppCount.length > 0)
    out.push(
      `## Whole-VM recovery against the number of apps, ms (${accel}, ${report.scalingRuns} runs each)`,
      '',
      'Total: until every app answers through its endpoint; plug: the sum over the apps.',
      '',
      renderMarkdownTable(
        ['apps', 'memory each', 'recovery total', 'plug', 'accel'],
        byAppCount.map((p) => [
          String(p.apps),
          formatBytes(p.appSizeBytes),
          p.error === undefined ? formatSpreadMs(p.totalMs) : `failed: ${p.error}`,
          p.error === undefined ? formatSpreadMs(p.plugMs) : '',
          accel,
        ]),
      ),
      '',
    );
  return out;
}

/** `4480 MiB / 8576 MiB (0.52)`: what the guests are given, baton's pair against a static full-size standby. */
function formatGiven(baseBytes: number, appBytes: number): string {
  const given = givenMemoryOf(baseBytes, appBytes);
  return `${formatBytes(given.pairBytes)} / ${formatBytes(given.staticBytes)} (${given.ratio ?? 'n/a'})`;
}
