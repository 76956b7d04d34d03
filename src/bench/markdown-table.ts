// Markdown building blocks for the report: a table, a figure with its spread, an RSS in whole MiB.
import { formatBytes } from '../units.js';
import type { Spread } from './stats.js';

/** `1234 (1100–1500)`: the median and the spread of a figure in ms. */
export function formatSpreadMs(spread: Spread): string {
  if (spread.runs === 0) return 'n/a';
  if (spread.runs === 1) return `${Math.round(spread.median)}`;
  return `${Math.round(spread.median)} (${Math.round(spread.min)}–${Math.round(spread.max)})`;
}

/** A Markdown table with aligned columns (as Markdown formatters print it); `|` inside a cell is escaped. */
export function renderMarkdownTable(
  header: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
): string {
  const escaped = [header, ...rows].map((row) =>
    header.map((_, column) => (row[column] ?? '').replaceAll('|', '\\|')),
  );
  const widths = header.map((_, column) => Math.max(3, ...escaped.map((row) => row[column]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const [headerCells = [], ...bodyRows] = escaped;
  return [line(headerCells), line(widths.map((width) => '-'.repeat(width))), ...bodyRows.map(line)].join(
    '\n',
  );
}

/** An RSS for people, rounded to whole MiB: `169 MiB`. */
export function formatRssBytes(bytes: number): string {
  return formatBytes(Math.round(bytes / 1048576) * 1048576);
}
