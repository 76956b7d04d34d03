// How whole-VM recovery grows with the app's memory (standby base chosen per size) and with the number of apps.
import { formatBytes, GiB, MiB } from '../units.js';
import { readRssBytes } from '../vm/host-memory.js';
import { benchPairConfig, standbyBaseBytesFor } from './bench-config.js';
import { type BenchContext, withPair, withScratchDir } from './bench-pair.js';
import { injectWholeVmFault } from './faults.js';
import { formatSpreadMs } from './markdown-table.js';
import { measureRecovery } from './measure-recovery.js';
import { plugMsOf } from './phases.js';
import type { AppCountPoint, SizeScalingPoint } from './report.js';
import { type Spread, summarize } from './stats.js';

export const SCALING_SIZES_BYTES = [128 * MiB, 512 * MiB, 1 * GiB, 2 * GiB, 3 * GiB, 4 * GiB];
export const QUICK_SCALING_SIZES_BYTES = [128 * MiB, 1 * GiB];
export const SCALING_APP_COUNTS = [1, 2, 4, 8];
export const QUICK_SCALING_APP_COUNTS = [1, 2];
const APP_COUNT_APP_BYTES = 128 * MiB;
const APP_COUNT_BASE_BYTES = 128 * MiB;

interface PanicSeries {
  totalsMs: number[];
  plugsMs: number[];
  standbyRssBytes: number;
}

/** `runs` guest panics on one pair of `apps` apps of `appSizeBytes` on guests of `baseBytes`. */
async function runPanics(
  ctx: BenchContext,
  shape: { appCount: number; appSizeBytes: number; baseBytes: number },
  runs: number,
  label: string,
): Promise<PanicSeries> {
  return withScratchDir(ctx, 'scaling', (dir) =>
    withPair(ctx, benchPairConfig(dir, shape), async (pair) => {
      const standbyRssBytes = (await readRssBytes(pair.standbyVm?.machine.pid ?? 0)) ?? 0;
      const apps = pair.config.apps.map((app) => app.name);
      const series: PanicSeries = { totalsMs: [], plugsMs: [], standbyRssBytes };
      for (let run = 1; run <= runs; run += 1) {
        const result = await measureRecovery(pair, {
          apps,
          kind: 'whole-vm',
          tag: `scaling-${run}`,
          inject: () => injectWholeVmFault(pair, 'guest-panic'),
        });
        series.totalsMs.push(result.totalMs);
        series.plugsMs.push(plugMsOf(result.record));
        ctx.progress(
          `${label} run ${run}/${runs}: recovery ${Math.round(result.totalMs)} ms, plug ${Math.round(plugMsOf(result.record))} ms [${ctx.accel.toUpperCase()}]`,
        );
      }
      return series;
    }),
  );
}

/** A scaling point's figures, or the first line of the error that stopped it. */
interface PointFigures {
  totalMs: Spread;
  plugMs: Spread;
  standbyRssBytes: number;
  error?: string;
}

/** Runs the panics of one scaling point and summarises them; a failure becomes the point's error. */
async function measurePoint(
  ctx: BenchContext,
  shape: { appCount: number; appSizeBytes: number; baseBytes: number },
  runs: number,
  label: string,
): Promise<PointFigures> {
  try {
    const series = await runPanics(ctx, shape, runs, label);
    const figures = {
      totalMs: summarize(series.totalsMs),
      plugMs: summarize(series.plugsMs),
      standbyRssBytes: series.standbyRssBytes,
    };
    ctx.progress(
      `${label}: recovery ${formatSpreadMs(figures.totalMs)} ms, plug ${formatSpreadMs(figures.plugMs)} ms, standby RSS ${Math.round(figures.standbyRssBytes / MiB)} MiB [${ctx.accel.toUpperCase()}]`,
    );
    return figures;
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? 'failed';
    ctx.progress(`${label}: failed: ${message}`);
    return { totalMs: summarize([]), plugMs: summarize([]), standbyRssBytes: 0, error: message };
  }
}

/** Whole-VM recovery (guest panic) and plug time for each app size; a size that fails is reported with its error. */
export async function benchSizeScaling(
  ctx: BenchContext,
  sizesBytes: readonly number[],
  runs: number,
): Promise<SizeScalingPoint[]> {
  const points: SizeScalingPoint[] = [];
  for (const appSizeBytes of sizesBytes) {
    const baseBytes = standbyBaseBytesFor(appSizeBytes);
    const label = `scaling ${formatBytes(appSizeBytes)} app, ${formatBytes(baseBytes)} base`;
    const figures = await measurePoint(ctx, { appCount: 1, appSizeBytes, baseBytes }, runs, label);
    points.push({ appSizeBytes, standbyBaseBytes: baseBytes, ...figures });
  }
  return points;
}

/** Whole-VM recovery (until every app answers) and the summed plug time for each number of 128 MiB apps. */
export async function benchAppCountScaling(
  ctx: BenchContext,
  appCounts: readonly number[],
  runs: number,
): Promise<AppCountPoint[]> {
  const points: AppCountPoint[] = [];
  for (const apps of appCounts) {
    const label = `scaling ${apps} app${apps === 1 ? '' : 's'} of ${formatBytes(APP_COUNT_APP_BYTES)}`;
    const shape = { appCount: apps, appSizeBytes: APP_COUNT_APP_BYTES, baseBytes: APP_COUNT_BASE_BYTES };
    const { standbyRssBytes: _standbyRssBytes, ...figures } = await measurePoint(ctx, shape, runs, label);
    points.push({ apps, appSizeBytes: APP_COUNT_APP_BYTES, ...figures });
  }
  return points;
}
