// The recovery scenarios: guest panic, active QEMU killed and guest hang (whole VM), and an app crash
// loop (that app alone), each run N times on real guests with the built-in pair.
import { defaultPairConfig } from '../pair/config.js';
import type { Pair } from '../pair/pair.js';
import { formatBytes } from '../units.js';
import { type BenchContext, waitUntil, withPair, withScratchDir } from './bench-pair.js';
import { activeVmOf, injectWholeVmFault } from './faults.js';
import { formatSpreadMs } from './markdown-table.js';
import { type MeasuredRecovery, measureRecovery } from './measure-recovery.js';
import { BENCH_PHASES, type PhaseTimes, type RecoveryFigures, type ScenarioName } from './report.js';
import { summarize } from './stats.js';

const APP = 'kvd';

/** Runs `scenario` `runs` times and summarises it; each run's result is printed as it comes. */
export async function benchRecovery(
  ctx: BenchContext,
  scenario: ScenarioName,
  runs: number,
): Promise<RecoveryFigures> {
  const measured: MeasuredRecovery[] = [];
  const report = (run: number, result: MeasuredRecovery) => {
    measured.push(result);
    ctx.progress(
      `${scenario} run ${run}/${runs}: ${describeRun(result.totalMs, result.phasesMs)} [${ctx.accel.toUpperCase()}]`,
    );
  };
  if (scenario === 'app-crash-loop') {
    // A moved app cannot move again to the same standby: a fresh pair each run.
    for (let run = 1; run <= runs; run += 1)
      report(
        run,
        await withScratchDir(ctx, 'crash-loop', (dir) =>
          withPair(ctx, defaultPairConfig(dir), (pair) => crashLoopOnce(pair, run)),
        ),
      );
  } else {
    await withScratchDir(ctx, scenario, (dir) =>
      withPair(ctx, defaultPairConfig(dir), async (pair) => {
        for (let run = 1; run <= runs; run += 1)
          report(
            run,
            await measureRecovery(pair, {
              apps: [APP],
              kind: 'whole-vm',
              tag: `${scenario}-${run}`,
              inject: () => injectWholeVmFault(pair, scenario),
            }),
          );
      }),
    );
  }
  return summarizeRecovery(
    scenario,
    scenario === 'app-crash-loop' ? 'app' : 'whole-vm',
    appSizeBytes(),
    measured,
  );
}

/**
 * A crash loop: kvd crashes, is restarted in place, and crashes again at once; the second crash
 * moves it alone. Its recovery is timed from that second crash (the first one's outage ended with
 * the restart in place).
 */
async function crashLoopOnce(pair: Pair, run: number): Promise<MeasuredRecovery> {
  const agent = activeVmOf(pair).machine.agent;
  const restartsBefore = pair.supervision.restarts.get(APP) ?? 0;
  await agent.request('fault.app-crash', { name: APP }, 5000);
  await waitUntil(() => ((pair.supervision.restarts.get(APP) ?? 0) > restartsBefore ? true : undefined), {
    timeoutMs: 30_000,
    what: `${APP} restarted in place after its first crash`,
  });
  return measureRecovery(pair, {
    apps: [APP],
    kind: 'app',
    tag: `crash-loop-${run}`,
    inject: async () => {
      await agent.request('fault.app-crash', { name: APP }, 5000);
    },
  });
}

/** Median and spread of the total and of each phase. */
export function summarizeRecovery(
  scenario: ScenarioName,
  kind: RecoveryFigures['kind'],
  sizeBytes: number,
  runs: ReadonlyArray<{ totalMs: number; phasesMs: PhaseTimes; trigger: string }>,
): RecoveryFigures {
  return {
    scenario,
    kind,
    appSizeBytes: sizeBytes,
    runs: runs.map(({ totalMs, phasesMs, trigger }) => ({ totalMs, phasesMs, trigger })),
    totalMs: summarize(runs.map((r) => r.totalMs)),
    phasesMs: Object.fromEntries(
      BENCH_PHASES.map((p) => [p, summarize(runs.map((r) => r.phasesMs[p]))]),
    ) as RecoveryFigures['phasesMs'],
  };
}

/** `1234 ms: detect 146, fence 12, …` for a progress line. */
export function describeRun(totalMs: number, phasesMs: PhaseTimes): string {
  return `${Math.round(totalMs)} ms: ${BENCH_PHASES.map((p) => `${p} ${Math.round(phasesMs[p])}`).join(', ')}`;
}

/** `guest-panic: median 1234 (1100–1500) ms [TCG]` once a scenario is done. */
export function describeFigures(figures: RecoveryFigures, accel: string): string {
  return `${figures.scenario} (${formatBytes(figures.appSizeBytes)}): total ${formatSpreadMs(figures.totalMs)} ms over ${figures.totalMs.runs} runs [${accel.toUpperCase()}]`;
}

function appSizeBytes(): number {
  return defaultPairConfig('').apps.find((a) => a.name === APP)?.sizeBytes ?? 0;
}
