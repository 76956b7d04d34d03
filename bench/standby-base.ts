// Finds the smallest base memory on which the Debian standby boots and takes Redis over: for each
// base (MiB, default 256 320 384 512) boots the pair of contrib/examples/redis.yaml with that base,
// panics the active, and checks that Redis answers a key written before the fault from the standby,
// then that the failed side comes back as a standby of the same size (re-protection).
// Usage: npx tsx bench/standby-base.ts [runs-per-base] [base-MiB ...]
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withPair } from '../src/bench/bench-pair.js';
import { activeVmOf, injectWholeVmFault } from '../src/bench/faults.js';
import { measureRecovery } from '../src/bench/measure-recovery.js';
import { loadExamplePair } from '../src/config/example.js';
import { createLogger } from '../src/log.js';
import { freshScratchDir } from '../src/recovery/scratch-sweep.js';
import { connectRedis } from '../src/traffic/redis.js';
import { MiB } from '../src/units.js';
import { resolveAccel } from '../src/vm/host-accel.js';
import { openForTraversal } from '../src/vm/qemu-user.js';

const runs = Number(process.argv[2] ?? 1);
const basesMiB = process.argv.slice(3).map(Number);
if (basesMiB.length === 0) basesMiB.push(256, 320, 384, 512);
const decision = await resolveAccel('auto');
console.log(`accelerator: ${decision.accel} (${decision.reason})`);
const log = createLogger({ level: process.env.BATON_LOG_LEVEL ?? 'silent' });
// Ctrl-C stops the guests of this run; a killed run's guests are stopped by the next one.
const scratch = await freshScratchDir('standby-base', log, (line) => console.log(line));
const scratchDir = scratch.dir;
const ctx = { accel: decision.accel, log, scratchDir, progress: (line: string) => console.log(line) };

interface Outcome {
  baseMiB: number;
  run: number;
  ok: boolean;
  memTotalMiB?: number;
  takeoverMs?: number;
  reprotectMs?: number;
  error?: string;
}
const outcomes: Outcome[] = [];

for (const baseMiB of basesMiB) {
  for (let run = 1; run <= runs; run += 1) {
    const stateDir = mkdtempSync(join(scratchDir, `base-${baseMiB}-`));
    openForTraversal(stateDir);
    const example = await loadExamplePair(stateDir);
    const baseBytes = baseMiB * MiB;
    const config = {
      ...example,
      budgetBytes: example.budgetBytes + 2 * (baseBytes - example.baseBytes),
      baseBytes,
    };
    const outcome: Outcome = { baseMiB, run, ok: false };
    const startedAtMs = performance.now();
    try {
      await withPair(ctx, config, async (pair) => {
        const standbyName = pair.roles.standby;
        const standby = standbyName === undefined ? undefined : pair.vms.get(standbyName);
        if (standby !== undefined) outcome.memTotalMiB = Math.round(standby.hello.memTotalBytes / MiB);
        console.log(
          `base ${baseMiB} MiB run ${run}: pair up in ${Math.round(performance.now() - startedAtMs)} ms (standby MemTotal ${outcome.memTotalMiB ?? '?'} MiB, kernel ${activeVmOf(pair).hello.kernelRelease})`,
        );
        const reprotectStartMs = performance.now();
        const result = await measureRecovery(pair, {
          apps: ['redis'],
          kind: 'whole-vm',
          tag: `base-${baseMiB}-${run}`,
          inject: () => injectWholeVmFault(pair, 'guest-panic'),
          client: { connect: connectRedis, key: run },
          protectedTimeoutMs: config.helloTimeoutMs + 120_000,
        });
        outcome.takeoverMs = Math.round(result.totalMs);
        outcome.reprotectMs = Math.round(performance.now() - reprotectStartMs - result.totalMs);
        outcome.ok = true;
      });
    } catch (error) {
      outcome.error = (error as Error).message.split('\n')[0] ?? String(error);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
    outcomes.push(outcome);
    console.log(
      outcome.ok
        ? `base ${baseMiB} MiB run ${run}: took Redis over, first right answer ${outcome.takeoverMs} ms after the panic; re-protected ${outcome.reprotectMs} ms later`
        : `base ${baseMiB} MiB run ${run}: FAILED: ${outcome.error}`,
    );
  }
}
await scratch.remove();
const working = basesMiB.filter((b) => outcomes.filter((o) => o.baseMiB === b).every((o) => o.ok));
console.log(
  JSON.stringify({ accel: decision.accel, runs, outcomes, smallestWorkingBaseMiB: Math.min(...working) }),
);
