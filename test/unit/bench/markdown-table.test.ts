import { describe, expect, it } from 'vitest';
import { formatRssBytes, formatSpreadMs, renderMarkdownTable } from '../../../src/bench/markdown-table.js';

describe('renderMarkdownTable', () => {
  it('renders a header, a separator and one line per row, columns aligned, escaping |', () => {
    expect(renderMarkdownTable(['a', 'bb'], [['1', 'x|y']])).toBe(
      ['| a   | bb   |', '| --- | ---- |', '| 1   | x\\|y |'].join('\n'),
    );
  });
});

describe('formatSpreadMs', () => {
  it('shows the median and the spread', () => {
    expect(formatSpreadMs({ median: 1200.4, min: 1000, max: 1400.6, runs: 3 })).toBe('1200 (1000–1401)');
  });

  it('shows a single run alone and no run as n/a', () => {
    expect(formatSpreadMs({ median: 5, min: 5, max: 5, runs: 1 })).toBe('5');
    expect(formatSpreadMs({ median: 0, min: 0, max: 0, runs: 0 })).toBe('n/a');
  });
});

describe('formatRssBytes', () => {
  it('rounds to whole MiB', () => {
    expect(formatRssBytes(169.4 * 1048576)).toBe('169 MiB');
  });
});
