// What every measurement on real guests shares: a scratch state directory, a pair started and always
// stopped, a deadline-bound wait, and the host RSS of the QEMUs.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { WaitTimeoutError } from '../errors.js';
import type { Logger } from '../log.js';
import { VirtioMemMechanism } from '../memory/virtio-mem.js';
import type { PairConfig } from '../pair/config.js';
import { Pair } from '../pair/pair.js';
import { readRssBytes } from '../vm/host-memory.js';
import { openForTraversal } from '../vm/qemu-user.js';
import type { Accel } from '../vm/spec.js';

/** What a measurement needs from the run: the accelerator, a quiet logger, where scratch files go, progress. */
export interface BenchContext {
  accel: Accel;
  log: Logger;
  /** Scratch directories (state, disks, run dirs) are made under here and removed after use. */
  scratchDir: string;
  progress: (line: string) => void;
}

/** Makes a scratch state directory, runs `work` with it, and removes it afterwards. */
export async function withScratchDir<T>(
  ctx: BenchContext,
  prefix: string,
  work: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(ctx.scratchDir, `${prefix}-`));
  openForTraversal(dir); // QEMU's own user passes through to its run directory.
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Starts a pair from `config`, runs `work` on it, and always stops it. */
export async function withPair<T>(
  ctx: BenchContext,
  config: PairConfig,
  work: (pair: Pair) => Promise<T>,
): Promise<T> {
  const pair = await Pair.start(config, {
    log: ctx.log,
    accel: ctx.accel,
    mechanism: new VirtioMemMechanism({ log: ctx.log }),
  });
  try {
    return await work(pair);
  } finally {
    await pair.stop();
  }
}

/** Polls `probe` every `intervalMs` until it returns a value; WaitTimeoutError after `timeoutMs`. */
export async function waitUntil<T>(
  probe: () => T | undefined,
  options: { timeoutMs: number; what: string; intervalMs?: number; lastSeen?: () => string },
): Promise<T> {
  const startedAtMs = performance.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() - startedAtMs > options.timeoutMs)
      throw new WaitTimeoutError({
        waitedFor: options.what,
        timeoutMs: options.timeoutMs,
        ...(options.lastSeen === undefined ? {} : { lastSeen: options.lastSeen() }),
      });
    await sleepMs(options.intervalMs ?? 20);
  }
}

/** Waits until the pair is protected again (after a failover, once the failed VM is back as the standby). */
export function waitForProtected(pair: Pair, timeoutMs = 180_000): Promise<true> {
  return waitUntil(() => (pair.state === 'protected' ? true : undefined), {
    timeoutMs,
    what: 'the pair to be protected again',
    intervalMs: 50,
    lastSeen: () => `state ${pair.state}${pair.blockedReason === undefined ? '' : `: ${pair.blockedReason}`}`,
  });
}

/** The host RSS of each of the pair's QEMUs, keyed `vm-a (active)`. */
export async function readPairRssBytes(pair: Pair): Promise<Record<string, number>> {
  const rss: Record<string, number> = {};
  for (const [name, vm] of pair.vms) {
    const role = pair.roles.active === name ? 'active' : 'standby';
    rss[`${name} (${role})`] = (await readRssBytes(vm.machine.pid)) ?? 0;
  }
  return rss;
}

export function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
