// `baton bench`: its options, its progress lines, and the Markdown table (or the JSON report) at the end.
import { join } from 'node:path';
import { Command, type Option } from 'commander';
import { BENCH_SECTIONS, type BenchSection } from '../bench/sections.js';
import { BenchError, InvalidInputError } from '../errors.js';
import { createLogger } from '../log.js';
import { PACKAGE_ROOT } from '../paths.js';
import type { AccelRequest } from '../vm/accel.js';

interface BenchCommandOptions {
  accel: AccelRequest;
  runs: number;
  scalingRuns?: number;
  quick: boolean;
  only: BenchSection[];
  out: string;
}

/**
 * The `bench` command. Progress goes to stdout (stderr with --json); it ends with the Markdown table
 * (or the report as JSON) and fails with BENCH_FAILED when a section could not be measured.
 */
export function buildBenchCommand(deps: {
  accelOption: () => Option;
  parseCount: (text: string, what: string) => number;
  isJson: () => boolean;
}): Command {
  return new Command('bench')
    .description(
      'measure on real guests: recovery by phase for four faults against a cold restart, Redis in the Debian pair against a cold restart of its VM (real-guest), memory against a static full-size standby, scaling and overhead; writes <out>/<date>.json, .md and .svg',
    )
    .addOption(deps.accelOption())
    .option('--runs <n>', 'runs per scenario', (text: string) => deps.parseCount(text, '--runs'), 5)
    .option('--scaling-runs <n>', 'runs per scaling point (default: --runs)', (text: string) =>
      deps.parseCount(text, '--scaling-runs'),
    )
    .option('--quick', 'fewer scaling points and shorter overhead windows', false)
    .option('--only <sections>', `comma-separated: ${BENCH_SECTIONS.join(', ')}`, parseBenchSections, [
      ...BENCH_SECTIONS,
    ])
    .option('--out <dir>', 'the results folder', join(PACKAGE_ROOT, 'bench', 'results'))
    .action(async (options: BenchCommandOptions) => {
      const out = deps.isJson() ? process.stderr : process.stdout;
      const say = (line: string) => out.write(`${line}\n`);
      // Loaded here: every other command starts without the bench runner.
      const { runBench } = await import('../bench/run.js');
      const { renderMarkdownReport } = await import('../bench/markdown.js');
      const { report, paths } = await runBench({
        runs: options.runs,
        scalingRuns: options.scalingRuns ?? options.runs,
        isQuick: options.quick,
        sections: options.only,
        outDir: options.out,
        accel: options.accel,
        command: ['baton', ...process.argv.slice(2)].join(' '),
        log: createLogger({ level: process.env.BATON_LOG_LEVEL ?? 'error' }),
        progress: say,
      });
      say(`wrote ${paths.jsonPath}, ${paths.markdownPath}, ${paths.svgPath}`);
      process.stdout.write(
        `${deps.isJson() ? JSON.stringify(report, null, 2) : renderMarkdownReport(report)}\n`,
      );
      if (report.errors.length > 0)
        throw new BenchError(
          'run',
          `${report.errors.length} section(s) not measured: ${report.errors.map((e) => e.section).join(', ')} (see ${paths.markdownPath})`,
        );
    });
}

function parseBenchSections(text: string): BenchSection[] {
  const sections = text.split(',').map((s) => s.trim());
  const unknown = sections.filter((s) => !(BENCH_SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0)
    throw new InvalidInputError(
      `Invalid --only: expected some of ${BENCH_SECTIONS.join(', ')}, got '${unknown.join(',')}'`,
    );
  return sections as BenchSection[];
}
