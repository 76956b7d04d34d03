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
import { summarize } from './stats.js';

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
    try {
      const series = await runPanics(ctx, { appCount: 1, appSizeBytes, baseBytes }, runs, label);
      const point = {
        appSizeBytes,
        standbyBaseBytes: baseBytes,
        totalMs: summarize(series.totalsMs),
        plugMs: summarize(series.plugsMs),
        standbyRssBytes: series.standbyRssBytes,
      };
      points.push(point);
      ctx.progress(
        `${label}: recovery ${formatSpreadMs(point.totalMs)} ms, plug ${formatSpreadMs(point.plugMs)} ms, standby RSS ${Math.round(point.standbyRssBytes / MiB)} MiB [${ctx.accel.toUpperCase()}]`,
      );
    } catch (error) {
      ctx.progress(`${label}: failed: ${(error as Error).message.split('\n')[0]}`);
      points.push({
        appSizeBytes,
        standbyBaseBytes: baseBytes,
        totalMs: summarize([]),
        plugMs: summarize([]),
        standbyRssBytes: 0,
        error: (error as Error).message.split('\n')[0] ?? 'failed',
      });
    }
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
    try {
      const series = await runPanics(
        ctx,
        { appCount: apps, appSizeBytes: APP_COUNT_APP_BYTES, baseBytes: APP_COUNT_BASE_BYTES },
        runs,
        label,
      );
      const point = {
        apps,
        appSizeBytes: APP_COUNT_APP_BYTES,
        totalMs: summarize(series.totalsMs),
        plugMs: summarize(series.plugsMs),
      };
      points.push(point);
      ctx.progress(
        `${label}: recovery ${formatSpreadMs(point.totalMs)} ms, plug ${formatSpreadMs(point.plugMs)} ms [${ctx.accel.toUpperCase()}]`,
      );
    } catch (error) {
      ctx.progress(`${label}: failed: ${(error as Error).message.split('\n')[0]}`);
      points.push({
        apps,
        appSizeBytes: APP_COUNT_APP_BYTES,
        totalMs: summarize([]),
        plugMs: summarize([]),
        error: (error as Error).message.split('\n')[0] ?? 'failed',
      });
    }
  }
  return points;
}
