// Draws a benchmark report as an SVG chart (hand-written markup): recovery by phase against a cold
// restart, recovery against the app's memory, and memory against a static full-size standby.
import { formatBytes } from '../units.js';
import { BENCH_PHASES, type BenchReport } from './report.js';
import { pickMedianItem } from './stats.js';

export interface Segment {
  name: string;
  value: number;
}

export interface Bar {
  label: string;
  segments: Segment[];
}

export interface BarGroup {
  title: string;
  unit: string;
  bars: Bar[];
}

const WIDTH = 900;
const LABEL_WIDTH = 260;
const PLOT_WIDTH = 520;
const BAR_HEIGHT = 18;
const BAR_GAP = 8;
const TITLE_HEIGHT = 34;
const GROUP_GAP = 20;
const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#9c755f'];
const SINGLE_COLOR = '#8c8c8c';

/** Escapes text for an SVG text node or attribute. */
export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** The chart of `groups`: in each group every bar's length is proportional to its total, the longest PLOT_WIDTH. */
export function renderBarChart(
  title: string,
  groups: readonly BarGroup[],
  legend: readonly string[] = [],
): string {
  const parts: string[] = [];
  let y = 30;
  parts.push(`<text x="10" y="${y}" font-size="16" font-weight="bold">${escapeXml(title)}</text>`);
  y += 10;
  if (legend.length > 0) {
    y += 10;
    legend.forEach((name, index) => {
      const x = 10 + index * 105;
      parts.push(`<rect x="${x}" y="${y}" width="12" height="12" fill="${colorOf(index)}"/>`);
      parts.push(`<text x="${x + 16}" y="${y + 11}" font-size="12">${escapeXml(name)}</text>`);
    });
    y += 20;
  }
  for (const group of groups) {
    y += GROUP_GAP;
    parts.push(
      `<text x="10" y="${y + 14}" font-size="14" font-weight="bold">${escapeXml(group.title)}</text>`,
    );
    y += TITLE_HEIGHT - 10;
    const maxTotal = Math.max(0, ...group.bars.map(totalOf));
    for (const bar of group.bars) {
      parts.push(
        `<text x="${LABEL_WIDTH - 6}" y="${y + 13}" font-size="12" text-anchor="end">${escapeXml(bar.label)}</text>`,
      );
      let x = LABEL_WIDTH;
      for (const segment of bar.segments) {
        const width = maxTotal === 0 ? 0 : (segment.value / maxTotal) * PLOT_WIDTH;
        if (width <= 0) continue;
        const legendIndex = legend.indexOf(segment.name);
        const fill = legendIndex === -1 ? SINGLE_COLOR : colorOf(legendIndex);
        parts.push(
          `<rect x="${round2(x)}" y="${y}" width="${round2(width)}" height="${BAR_HEIGHT}" fill="${fill}"><title>${escapeXml(`${bar.label}: ${segment.name} ${Math.round(segment.value)} ${group.unit}`)}</title></rect>`,
        );
        x += width;
      }
      parts.push(
        `<text x="${round2(x + 6)}" y="${y + 13}" font-size="12">${escapeXml(`${Math.round(totalOf(bar))} ${group.unit}`)}</text>`,
      );
      y += BAR_HEIGHT + BAR_GAP;
    }
  }
  const height = y + 20;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** The report's chart: recovery by phase with the cold restart, scaling by memory and by apps, memory. */
export function renderReportSvg(report: BenchReport): string {
  const accel = report.accel.accel.toUpperCase();
  const groups: BarGroup[] = [];
  // The median run by phase: its phases add up to its total, which medians of each phase would not.
  const recoveryBars: Bar[] = report.recovery.map((r) => {
    const run = pickMedianItem(r.runs, (candidate) => candidate.totalMs);
    return {
      label: r.scenario,
      segments: BENCH_PHASES.map((p) => ({ name: p, value: run?.phasesMs[p] ?? 0 })),
    };
  });
  if (report.coldRestart !== undefined)
    recoveryBars.push({
      label: 'cold restart (baseline)',
      segments: [{ name: 'cold restart', value: report.coldRestart.totalMs.median }],
    });
  if (recoveryBars.length > 0)
    groups.push({
      title: `Recovery to the first client request, the median run by phase (${accel})`,
      unit: 'ms',
      bars: recoveryBars,
    });
  const sizes = report.scaling.bySize.filter((p) => p.error === undefined);
  if (sizes.length > 0)
    groups.push({
      title: `Whole-VM recovery against the app's memory, median (${accel})`,
      unit: 'ms',
      bars: sizes.map((p) => ({
        label: `${formatBytes(p.appSizeBytes)} (standby base ${formatBytes(p.standbyBaseBytes)})`,
        segments: [
          { name: 'plug', value: p.plugMs.median },
          { name: 'rest', value: Math.max(0, p.totalMs.median - p.plugMs.median) },
        ],
      })),
    });
  const counts = report.scaling.byAppCount.filter((p) => p.error === undefined);
  if (counts.length > 0)
    groups.push({
      title: `Whole-VM recovery against the number of apps, median (${accel})`,
      unit: 'ms',
      bars: counts.map((p) => ({
        label: `${p.apps} app${p.apps === 1 ? '' : 's'} of ${formatBytes(p.appSizeBytes)}`,
        segments: [
          { name: 'plug', value: p.plugMs.median },
          { name: 'rest', value: Math.max(0, p.totalMs.median - p.plugMs.median) },
        ],
      })),
    });
  if (report.memory !== undefined)
    groups.push({
      title: `Memory given to the guests, app of ${formatBytes(report.memory.appSizeBytes)}`,
      unit: 'MiB',
      bars: [
        {
          label: "baton's pair",
          segments: [{ name: 'given', value: report.memory.baton.guestGivenBytes / 1048576 }],
        },
        {
          label: 'static full-size standby',
          segments: [{ name: 'given', value: report.memory.staticStandby.guestGivenBytes / 1048576 }],
        },
      ],
    });
  return renderBarChart(`baton benchmarks, ${report.startedAt} (${accel})`, groups, BENCH_PHASES);
}

function totalOf(bar: Bar): number {
  return bar.segments.reduce((sum, s) => sum + Math.max(0, s.value), 0);
}

function colorOf(index: number): string {
  return COLORS[index % COLORS.length] ?? SINGLE_COLOR;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
