// Baseline (b): host memory of baton's pair (full active + tiny standby) against a static full-size hot
// standby (two full VMs, the app started on one), with the same app.
import { BenchError } from '../errors.js';
import { VirtioMemMechanism } from '../memory/virtio-mem.js';
import { diskPathOf, type PairConfig } from '../pair/config.js';
import { ensureDataDisk } from '../pair/disk.js';
import type { Pair } from '../pair/pair.js';
import { placeApp } from '../pair/place-app.js';
import { formatBytes, MiB } from '../units.js';
import { readRssBytes } from '../vm/host-memory.js';
import { benchPairConfig } from './bench-config.js';
import { type BenchContext, readPairRssBytes, sleepMs, withPair, withScratchDir } from './bench-pair.js';
import { bootFullSizeVm, givenBytesOf } from './full-size-vm.js';
import type { BenchReport, MemoryFootprint } from './report.js';

export const MEMORY_APP_BYTES = 128 * MiB;
const BASE_BYTES = 96 * MiB;
/** Both setups idle this long before their RSS is read (boot-time allocations settle). */
const SETTLE_MS = 5000;

/**
 * Boots baton's pair and then the static standby, each with kvd of 128 MiB, and reads the host RSS
 * of their QEMUs and of this process. `whilePairRuns` gets baton's pair once it is settled (the
 * overhead is measured there).
 */
export async function benchMemory(
  ctx: BenchContext,
  whilePairRuns: (pair: Pair) => Promise<void> = async () => undefined,
): Promise<NonNullable<BenchReport['memory']>> {
  const baton = await withScratchDir(ctx, 'memory-pair', (dir) => {
    const config = configIn(dir);
    return withPair(ctx, config, async (pair) => {
      await sleepMs(SETTLE_MS);
      const footprint = footprintOf(await readPairRssBytes(pair), 2 * config.baseBytes + MEMORY_APP_BYTES);
      await whilePairRuns(pair);
      return footprint;
    });
  });
  ctx.progress(describeFootprint("baton's pair", baton, ctx));
  const staticStandby = await withScratchDir(ctx, 'memory-static', async (dir) => {
    const config = configIn(dir);
    const [app] = config.apps;
    if (app?.diskBytes === undefined)
      throw new BenchError('memory', 'its config has no app with a data disk');
    const disk = await ensureDataDisk(app.name, diskPathOf(config, app.name), app.diskBytes);
    const booted = await Promise.allSettled([
      bootFullSizeVm(ctx, config, 'vm-a', 'active'),
      bootFullSizeVm(ctx, config, 'vm-b', 'standby'),
    ]);
    const vms = booted.flatMap((b) => (b.status === 'fulfilled' ? [b.value] : []));
    try {
      const failed = booted.find((b): b is PromiseRejectedResult => b.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      const [active] = vms;
      if (active === undefined) throw new BenchError('memory', 'the static standby has no active VM');
      await placeApp(active, app, {
        mechanism: new VirtioMemMechanism({ log: ctx.log }),
        disk,
        diskPortIndex: 0,
        healthTimeoutMs: config.healthTimeoutMs,
      });
      await sleepMs(SETTLE_MS);
      const rss: Record<string, number> = {};
      for (const vm of vms)
        rss[`${vm.machine.spec.name} (${vm.machine.spec.role})`] = (await readRssBytes(vm.machine.pid)) ?? 0;
      return footprintOf(rss, 2 * givenBytesOf(config));
    } finally {
      await Promise.all(vms.map((vm) => vm.machine.shutdown()));
    }
  });
  ctx.progress(describeFootprint('static full-size standby', staticStandby, ctx));
  return { appSizeBytes: MEMORY_APP_BYTES, baton, staticStandby };
}

function configIn(dir: string): PairConfig {
  return benchPairConfig(dir, { appCount: 1, appSizeBytes: MEMORY_APP_BYTES, baseBytes: BASE_BYTES });
}

function footprintOf(qemuRssBytes: Record<string, number>, guestGivenBytes: number): MemoryFootprint {
  const processRssBytes = process.memoryUsage().rss;
  const qemuTotal = Object.values(qemuRssBytes).reduce((sum, rss) => sum + rss, 0);
  return { qemuRssBytes, processRssBytes, totalRssBytes: qemuTotal + processRssBytes, guestGivenBytes };
}

function describeFootprint(what: string, f: MemoryFootprint, ctx: BenchContext): string {
  const qemus = Object.entries(f.qemuRssBytes)
    .map(([vm, rss]) => `${vm} ${Math.round(rss / MiB)} MiB`)
    .join(', ');
  return `memory, ${what}: QEMU RSS ${qemus}; process ${Math.round(f.processRssBytes / MiB)} MiB; total RSS ${Math.round(f.totalRssBytes / MiB)} MiB; given to guests ${formatBytes(f.guestGivenBytes)} [${ctx.accel.toUpperCase()}]`;
}
