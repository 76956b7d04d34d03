// The real guest: Redis in the Debian pair from contrib/examples/redis.yaml. A guest panic of the VM
// running Redis, timed to the first right answer from Redis through the endpoint, against a cold
// restart of the same Debian VM with Redis (a fresh VM from the same image, Redis on the same data).
import { rm } from 'node:fs/promises';
import { loadExamplePair, REDIS_EXAMPLE_PATH } from '../config/example.js';
import { BenchError } from '../errors.js';
import type { AppConfig, PairConfig } from '../pair/config.js';
import { PACKAGE_ROOT } from '../paths.js';
import { connectRedis } from '../traffic/redis.js';
import { formatBytes } from '../units.js';
import { readRssBytes } from '../vm/host-memory.js';
import { rootOverlayPaths } from '../vm/root-overlay.js';
import { type BenchContext, withPair, withScratchDir } from './bench-pair.js';
import { coldRestarts } from './cold-restart.js';
import { activeVmOf, injectWholeVmFault } from './faults.js';
import { bootFullSizeVm } from './full-size-vm.js';
import { type MeasuredRecovery, measureRecovery } from './measure-recovery.js';
import { describeFigures, describeRun, summarizeRecovery } from './recovery.js';
import type { ColdRestartFigures, RealGuestFigures } from './report.js';

/** Keys written through the endpoint before the first fault; the cold restart reads the first back. */
const PRELOADED_KEYS = 20;
const TICK_MS = 10_000;

/** Runs both measurements; `update` receives the figures as each part is done (an interrupted run keeps them). */
export async function benchRealGuest(
  ctx: BenchContext,
  runs: number,
  update: (figures: RealGuestFigures) => void,
): Promise<void> {
  await withScratchDir(ctx, 'real-guest', async (dir) => {
    const config = await loadExamplePair(dir);
    const app = config.apps.find((a) => a.hotStandby);
    if (app === undefined) throw new BenchError('real guest', `${REDIS_EXAMPLE_PATH} has no hot-standby app`);
    const figures: RealGuestFigures = {
      config: REDIS_EXAMPLE_PATH.slice(PACKAGE_ROOT.length + 1),
      app: app.name,
      appSizeBytes: app.sizeBytes,
      standbyBaseBytes: config.baseBytes,
    };
    ctx.progress(
      `real guest: booting the Debian pair from ${figures.config} (base ${formatBytes(config.baseBytes)}, ${app.name} ${formatBytes(app.sizeBytes)}) ...`,
    );
    const measured: MeasuredRecovery[] = [];
    await ticking(ctx, 'real guest: the Debian pair', () =>
      withPair(ctx, config, async (pair) => {
        figures.kernelRelease = activeVmOf(pair).hello.kernelRelease;
        const standby = pair.standbyVm;
        if (standby !== undefined) figures.standbyRssBytes = (await readRssBytes(standby.machine.pid)) ?? 0;
        await preload(pair.endpointPort(app.name));
        for (let run = 1; run <= runs; run += 1) {
          const result = await measureRecovery(pair, {
            apps: [app.name],
            kind: 'whole-vm',
            tag: `real-guest-${run}`,
            inject: () => injectWholeVmFault(pair, 'guest-panic'),
            client: { connect: connectRedis, key: PRELOADED_KEYS + run },
            protectedTimeoutMs: config.helloTimeoutMs + 120_000,
          });
          measured.push(result);
          ctx.progress(
            `real guest, guest panic run ${run}/${runs}: ${describeRun(result.totalMs, result.phasesMs)} [${ctx.accel.toUpperCase()}]`,
          );
        }
      }),
    );
    figures.recovery = summarizeRecovery('guest-panic', 'whole-vm', app.sizeBytes, measured);
    ctx.progress(`real guest: ${describeFigures(figures.recovery, ctx.accel)}`);
    update({ ...figures });
    // The pair is gone; Redis's data disk (its append-only file) stays for the cold restarts.
    figures.coldRestart = await coldRestartsOfRedis(ctx, config, app, runs);
    update({ ...figures });
  });
}

/** `runs` times: a fresh Debian VM (a new root overlay) with Redis's full memory, Redis started on its data, the first right GET. */
function coldRestartsOfRedis(
  ctx: BenchContext,
  config: PairConfig,
  app: AppConfig,
  runs: number,
): Promise<ColdRestartFigures> {
  return coldRestarts(ctx, config, app, runs, {
    question: { connect: connectRedis, key: 0 },
    label: (run) => `real guest, cold restart run ${run}/${runs}`,
    boot: async (run) => {
      await rm(rootOverlayPaths(config.stateDir, 'vm-cold').overlayPath, { force: true });
      return ticking(ctx, `real guest: cold restart run ${run}/${runs}`, () =>
        bootFullSizeVm(ctx, config, 'vm-cold', 'active'),
      );
    },
  });
}

/** Writes keys 0 … PRELOADED_KEYS-1 through the endpoint with the Redis client. */
async function preload(port: number): Promise<void> {
  const store = await connectRedis(port, 5000);
  try {
    for (let n = 0; n < PRELOADED_KEYS; n += 1)
      if (!(await store.write(n))) throw new BenchError('real guest', `Redis did not acknowledge key ${n}`);
  } finally {
    store.close();
  }
}

/** Runs `work`, saying every 10 s that it still runs (a Debian boot under TCG takes minutes). */
async function ticking<T>(ctx: BenchContext, what: string, work: () => Promise<T>): Promise<T> {
  const startedAtMs = performance.now();
  const ticker = setInterval(
    () => ctx.progress(`${what} ... ${Math.round((performance.now() - startedAtMs) / 1000)} s`),
    TICK_MS,
  );
  try {
    return await work();
  } finally {
    clearInterval(ticker);
  }
}
