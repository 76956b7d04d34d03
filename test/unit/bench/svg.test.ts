import { describe, expect, it } from 'vitest';
import { computeRatios } from '../../../src/bench/ratios.js';
import { escapeXml, renderBarChart, renderReportSvg } from '../../../src/bench/svg.js';
import { sampleReport } from '../../fixtures/bench/sample-report.js';

/** Checks that `svg` is well-formed XML: one root, balanced tags, quoted attributes, escaped text. */
function wellFormednessProblems(svg: string): string[] {
  const problems: string[] = [];
  const body = svg.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  let index = 0;
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  while (index < body.length) {
    const next = body.indexOf('<', index);
    const text = body.slice(index, next === -1 ? body.length : next);
    if (/&(?!(amp|lt|gt|quot|apos);)/.test(text)) problems.push(`unescaped & in ${JSON.stringify(text)}`);
    if (text.includes('>')) problems.push(`stray > in ${JSON.stringify(text)}`);
    if (next === -1) break;
    tag.lastIndex = next;
    const match = tag.exec(body);
    if (match === null) {
      problems.push(`malformed tag at ${next}: ${body.slice(next, next + 40)}`);
      break;
    }
    const [, closing, name = '', , selfClosing] = match;
    if (closing === '/') {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open}>`);
    } else if (selfClosing !== '/') {
      if (stack.length === 0) roots += 1;
      stack.push(name);
    } else if (stack.length === 0) roots += 1;
    index = tag.lastIndex;
  }
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(', ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}

function barWidths(svg: string): number[] {
  return [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="18"/g)].map((m) =>
    Number(m[1]),
  );
}

describe('renderBarChart', () => {
  it('draws well-formed SVG, escaping labels', () => {
    const svg = renderBarChart('a <chart> & "quotes"', [
      { title: "Tom's", unit: 'ms', bars: [{ label: '<x>', segments: [{ name: 'a', value: 1 }] }] },
    ]);
    expect(wellFormednessProblems(svg)).toEqual([]);
    expect(svg).toContain('a &lt;chart&gt; &amp; &quot;quotes&quot;');
  });

  it('draws bars proportional to their totals, the longest filling the plot', () => {
    const svg = renderBarChart('t', [
      {
        title: 'g',
        unit: 'ms',
        bars: [
          { label: 'long', segments: [{ name: 'x', value: 1000 }] },
          { label: 'half', segments: [{ name: 'x', value: 500 }] },
          { label: 'tenth', segments: [{ name: 'x', value: 100 }] },
        ],
      },
    ]);
    const [long = 0, half = 0, tenth = 0] = barWidths(svg);
    expect(long).toBeGreaterThan(0);
    expect(half / long).toBeCloseTo(0.5, 2);
    expect(tenth / long).toBeCloseTo(0.1, 2);
  });

  it('stacks segments end to end in the colours of the legend', () => {
    const svg = renderBarChart(
      't',
      [
        {
          title: 'g',
          unit: 'ms',
          bars: [
            {
              label: 'b',
              segments: [
                { name: 'fence', value: 300 },
                { name: 'plug', value: 100 },
              ],
            },
          ],
        },
      ],
      ['fence', 'plug'],
    );
    const rects = [
      ...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="18" fill="(#\w+)"/g),
    ];
    const [first, second] = rects;
    expect(Number(second?.[1])).toBeCloseTo(Number(first?.[1]) + Number(first?.[2]), 1);
    expect(Number(first?.[2]) / Number(second?.[2])).toBeCloseTo(3, 2);
    expect(first?.[3]).not.toBe(second?.[3]);
  });
});

describe('renderReportSvg', () => {
  const report = sampleReport();
  report.ratios = computeRatios(report);
  const svg = renderReportSvg(report);

  it('is well-formed', () => {
    expect(wellFormednessProblems(svg)).toEqual([]);
  });

  it('draws the cold restart beside the recoveries, to the same scale', () => {
    expect(svg).toContain('cold restart (baseline)');
    const widths = barWidths(svg);
    // The panic's median run (1200 ms, by phase) against the 6000 ms cold restart: one fifth of its length.
    const panicTotal = widths.slice(0, 5).reduce((sum, w) => sum + w, 0);
    const coldWidth = widths.find((w) => w > 500) ?? 0;
    expect(panicTotal / coldWidth).toBeCloseTo(1200 / 6000, 2);
  });

  it('names the accelerator', () => {
    expect(svg).toContain('(TCG)');
  });

  it('leaves out a scaling point that failed', () => {
    expect(svg).not.toContain('4 GiB (standby base');
  });
});

describe('escapeXml', () => {
  it('escapes the five XML characters', () => {
    expect(escapeXml(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&apos;');
  });
});
