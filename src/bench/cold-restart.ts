// Baseline (a), what restart-based HA does: boot a fresh VM with the app's full memory, start the app
// with its data disk, and time until the first successful client request.
import { BenchError } from '../errors.js';
import { VirtioMemMechanism } from '../memory/virtio-mem.js';
import { type AppConfig, diskPathOf, type PairConfig } from '../pair/config.js';
import { ensureDataDisk } from '../pair/disk.js';
import { placeApp } from '../pair/place-app.js';
import type { PairVm } from '../pair/vm-factory.js';
import { formatBytes, MiB } from '../units.js';
import { benchPairConfig } from './bench-config.js';
import { type BenchContext, withScratchDir } from './bench-pair.js';
import { type ProbeQuestion, waitForFirstAnswer } from './client-probe.js';
import { bootFullSizeVm } from './full-size-vm.js';
import type { ColdRestartFigures } from './report.js';
import { roundTenth, summarize } from './stats.js';

export const COLD_RESTART_APP_BYTES = 128 * MiB;
const BASE_BYTES = 96 * MiB;

/**
 * `runs` cold restarts of kvd (128 MiB, 64 MiB data disk), each from QEMU's launch to kvd's first
 * PONG on its forwarded port. Detecting the fault and fencing are not counted: the baseline is
 * timed from the moment it decides to restart, which favours it against baton's totals.
 */
export async function benchColdRestart(ctx: BenchContext, runs: number): Promise<ColdRestartFigures> {
  return withScratchDir(ctx, 'cold-restart', async (dir) => {
    const config = benchPairConfig(dir, {
      appCount: 1,
      appSizeBytes: COLD_RESTART_APP_BYTES,
      baseBytes: BASE_BYTES,
    });
    const [app] = config.apps;
    if (app === undefined) throw new BenchError('cold restart', 'its config has no app');
    return coldRestarts(ctx, config, app, runs, {
      question: { request: 'PING', expected: 'PONG' },
      label: (run) => `cold restart run ${run}/${runs} (${formatBytes(app.sizeBytes)})`,
    });
  });
}

/**
 * `runs` times: a fresh full-size VM (`boot`, by default bootFullSizeVm) with the app's data disk,
 * the app placed, then the first right answer to `question`; each run is timed from QEMU's launch.
 */
export async function coldRestarts(
  ctx: BenchContext,
  config: PairConfig,
  app: AppConfig,
  runs: number,
  options: {
    question: ProbeQuestion;
    /** The progress line's start for run `run`. */
    label: (run: number) => string;
    boot?: (run: number) => Promise<PairVm>;
  },
): Promise<ColdRestartFigures> {
  if (app.diskBytes === undefined) throw new BenchError('cold restart', `${app.name} has no data disk`);
  const disk = await ensureDataDisk(app.name, diskPathOf(config, app.name), app.diskBytes);
  const mechanism = new VirtioMemMechanism({ log: ctx.log });
  const boot = options.boot ?? (() => bootFullSizeVm(ctx, config, 'vm-cold', 'active'));
  const measured: ColdRestartFigures['runs'] = [];
  for (let run = 1; run <= runs; run += 1) {
    const startedAtMs = performance.now();
    const vm = await boot(run);
    try {
      const bootedAtMs = performance.now();
      const port = vm.forwards.get(app.name);
      if (port === undefined)
        throw new BenchError('cold restart', `${vm.machine.spec.name} forwards no host port to ${app.name}`);
      await placeApp(vm, app, { mechanism, disk, diskPortIndex: 0, healthTimeoutMs: config.healthTimeoutMs });
      const answeredAtMs = await waitForFirstAnswer({
        ...options.question,
        port,
        isRecovered: () => true,
        timeoutMs: 60_000,
      });
      const result = {
        totalMs: roundTenth(answeredAtMs - startedAtMs),
        bootMs: roundTenth(bootedAtMs - startedAtMs),
        appMs: roundTenth(answeredAtMs - bootedAtMs),
      };
      measured.push(result);
      ctx.progress(
        `${options.label(run)}: ${Math.round(result.totalMs)} ms: boot to agent ${Math.round(result.bootMs)}, ${app.name} placed and answering ${Math.round(result.appMs)} [${ctx.accel.toUpperCase()}]`,
      );
    } finally {
      await vm.machine.shutdown();
    }
  }
  return {
    appSizeBytes: app.sizeBytes,
    runs: measured,
    totalMs: summarize(measured.map((r) => r.totalMs)),
    bootMs: summarize(measured.map((r) => r.bootMs)),
    appMs: summarize(measured.map((r) => r.appMs)),
  };
}
