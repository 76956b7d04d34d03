// `baton bench`: runs every scenario on real guests, prints each result as it comes, and writes the
// report (JSON, Markdown, SVG) after every section so an interrupted run still leaves its figures.
import type { Logger } from '../log.js';
import { freshScratchDir } from '../recovery/scratch-sweep.js';
import type { AccelRequest } from '../vm/accel.js';
import { resolveAccel } from '../vm/host-accel.js';
import type { BenchContext } from './bench-pair.js';
import { benchColdRestart } from './cold-restart.js';
import { readMachineInfo } from './machine-info.js';
import { benchMemory } from './memory.js';
import { measurePairLoad, measureProcessLoad, measureQmpRoundTrip } from './overhead.js';
import { computeRatios, computeStandbyFootprints } from './ratios.js';
import { benchRealGuest } from './real-guest.js';
import { benchRecovery, describeFigures } from './recovery.js';
import { type BenchReport, SCENARIOS } from './report.js';
import {
  benchAppCountScaling,
  benchSizeScaling,
  QUICK_SCALING_APP_COUNTS,
  QUICK_SCALING_SIZES_BYTES,
  SCALING_APP_COUNTS,
  SCALING_SIZES_BYTES,
} from './scaling.js';
import type { BenchSection } from './sections.js';
import { fileStampOf, type ReportPaths, writeReport } from './write-report.js';

export interface BenchOptions {
  /** Runs per recovery scenario and baseline. */
  runs: number;
  /** Runs per scaling point. */
  scalingRuns: number;
  /** Fewer scaling points and shorter overhead windows. */
  isQuick: boolean;
  sections: readonly BenchSection[];
  outDir: string;
  accel: AccelRequest;
  /** The command line, recorded in the report. */
  command: string;
  log: Logger;
  progress: (line: string) => void;
}

/** Runs the selected sections in order; a section that fails is recorded in `errors` and the rest still run. */
export async function runBench(options: BenchOptions): Promise<{ report: BenchReport; paths: ReportPaths }> {
  const decision = await resolveAccel(options.accel);
  options.progress(`accelerator: ${decision.accel.toUpperCase()} (${decision.reason})`);
  const startedAt = new Date();
  const stamp = fileStampOf(startedAt);
  const scratch = await freshScratchDir('bench', options.log, options.progress);
  const scratchDir = scratch.dir;
  const ctx: BenchContext = {
    accel: decision.accel,
    log: options.log,
    scratchDir,
    progress: options.progress,
  };
  const report: BenchReport = {
    schemaVersion: 1,
    startedAt: startedAt.toISOString(),
    command: options.command,
    machine: await readMachineInfo(),
    accel: { accel: decision.accel, reason: decision.reason },
    runsPerScenario: options.runs,
    scalingRuns: options.scalingRuns,
    isQuick: options.isQuick,
    recovery: [],
    scaling: { bySize: [], byAppCount: [] },
    ratios: {},
    errors: [],
  };
  let paths: ReportPaths | undefined;
  const section = async (name: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      const message = (error as Error).message.split('\n')[0] ?? 'failed';
      report.errors.push({ section: name, message });
      options.progress(`${name}: not measured: ${message}`);
    }
    paths = await save(report, options.outDir, stamp);
  };
  const isOn = (s: BenchSection) => options.sections.includes(s);
  const windowMs = options.isQuick ? 3000 : 10_000;
  try {
    paths = await save(report, options.outDir, stamp);
    const idle = await measureProcessLoad(windowMs);
    if (isOn('recovery'))
      for (const scenario of SCENARIOS)
        await section(`recovery ${scenario}`, async () => {
          const figures = await benchRecovery(ctx, scenario, options.runs);
          report.recovery.push(figures);
          options.progress(describeFigures(figures, decision.accel));
        });
    if (isOn('baselines')) {
      await section('cold restart', async () => {
        report.coldRestart = await benchColdRestart(ctx, options.runs);
      });
      await section('memory and overhead', async () => {
        report.memory = await benchMemory(ctx, async (pair) => {
          const heartbeats = await measurePairLoad(pair, windowMs);
          const qmpRoundTripMs = await measureQmpRoundTrip(pair, options.isQuick ? 50 : 500);
          report.overhead = { windowMs, idle, heartbeats, qmpRoundTripMs };
          options.progress(
            `overhead: monitor idle RSS ${mib(idle.rssBytes)} MiB CPU ${idle.cpuPercent}%; with the pair RSS ${mib(heartbeats.rssBytes)} MiB CPU ${heartbeats.cpuPercent}%; QMP query-status median ${qmpRoundTripMs.median} ms, p99 ${qmpRoundTripMs.p99} ms [${decision.accel.toUpperCase()}]`,
          );
        });
      });
    }
    if (isOn('real-guest'))
      await section('real guest', async () => {
        await benchRealGuest(ctx, options.runs, (figures) => {
          report.realGuest = figures;
        });
      });
    if (isOn('scaling-size'))
      await section('scaling by app memory', async () => {
        const sizes = options.isQuick ? QUICK_SCALING_SIZES_BYTES : SCALING_SIZES_BYTES;
        report.scaling.bySize = await benchSizeScaling(ctx, sizes, options.scalingRuns);
      });
    if (isOn('scaling-apps'))
      await section('scaling by number of apps', async () => {
        const counts = options.isQuick ? QUICK_SCALING_APP_COUNTS : SCALING_APP_COUNTS;
        report.scaling.byAppCount = await benchAppCountScaling(ctx, counts, options.scalingRuns);
      });
  } finally {
    // The scratch folder (and its signal handlers) goes even when the report cannot be written.
    try {
      report.finishedAt = new Date().toISOString();
      paths = await save(report, options.outDir, stamp);
    } finally {
      await scratch.remove();
    }
  }
  return { report, paths };
}

async function save(report: BenchReport, outDir: string, stamp: string): Promise<ReportPaths> {
  report.ratios = computeRatios(report);
  report.scaling.standbyFootprint = computeStandbyFootprints(report.scaling.bySize);
  return writeReport(report, outDir, stamp);
}

function mib(bytes: number): number {
  return Math.round(bytes / 1048576);
}
