// Single-app moves (median of N, per phase), restart in place after an app crash, and detection
// latency for app crashes, guest hangs and guest panics, on real guests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/log.js';
import { VirtioMemMechanism } from '../src/memory/virtio-mem.js';
import { defaultPairConfig } from '../src/pair/config.js';
import { Pair } from '../src/pair/pair.js';
import type { FailoverRecord } from '../src/state/history.js';
import { resolveAccel } from '../src/vm/host-accel.js';

const runs = Number(process.argv[2] ?? 5);
const decision = await resolveAccel('auto');
console.log(`accelerator: ${decision.accel} (${decision.reason})`);
const log = createLogger({ level: 'error' });
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const round = (ms: number) => Math.round(ms);

async function until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const start = performance.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function withPair<T>(work: (pair: Pair) => Promise<T>): Promise<T> {
  const stateDir = mkdtempSync(join(tmpdir(), 'baton-bench-faults-'));
  const pair = await Pair.start(defaultPairConfig(stateDir), {
    log,
    accel: decision.accel,
    mechanism: new VirtioMemMechanism({ log }),
  });
  try {
    return await work(pair);
  } finally {
    await pair.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

// 1. Single-app moves: a fresh pair each run (a moved app cannot move again to the same standby).
const moves: FailoverRecord[] = [];
for (let run = 1; run <= runs; run += 1) {
  const record = await withPair((pair) =>
    pair.moveApp('kvd', { reason: 'bench', detectedAtMs: performance.now() }),
  );
  if (record.result !== 'succeeded') throw new Error(`move ${run} ${record.result}: ${record.error}`);
  console.log(`app move ${run}/${runs}: ${record.totalMs} ms`);
  moves.push(record);
}
const movePhases = Object.fromEntries(
  (moves[0]?.phases ?? []).map((p) => [
    p.name,
    median(moves.map((r) => r.phases.find((q) => q.name === p.name)?.ms ?? 0)),
  ]),
);

// 2. App crashes (restart in place) and 3. guest hangs, on one pair.
const crash = await withPair(async (pair) => {
  const detectMs: number[] = [];
  const restartMs: number[] = [];
  for (let run = 1; run <= 3; run += 1) {
    const agent = pair.activeVm?.machine.agent;
    if (agent === undefined) throw new Error('no active VM');
    const exited = new Promise<number>((resolve) =>
      agent.once('appExited', (_message, atMs) => resolve(atMs)),
    );
    const injectedAtMs = performance.now();
    await agent.request('fault.app-crash', { name: 'kvd' }, 5000);
    const exitedAtMs = await exited;
    await until(
      () => ((pair.supervision.restarts.get('kvd') ?? 0) >= run ? true : undefined),
      30_000,
      'the restart',
    );
    detectMs.push(exitedAtMs - injectedAtMs);
    restartMs.push(performance.now() - exitedAtMs);
    console.log(
      `app crash ${run}/3: seen after ${round(exitedAtMs - injectedAtMs)} ms, healthy again ${round(performance.now() - exitedAtMs)} ms later`,
    );
    await new Promise((r) => setTimeout(r, 11_000)); // Not a crash loop: each crash comes long after its start.
  }
  return { detectMsMedian: round(median(detectMs)), restartInPlaceMsMedian: round(median(restartMs)) };
});

const hang = await withPair(async (pair) => {
  const detectMs: number[] = [];
  const totals: number[] = [];
  for (let run = 1; run <= 3; run += 1) {
    const seen = pair.history.length;
    const injectedAtWallMs = Date.now();
    await pair.activeVm?.machine.agent.request('fault.hang', {}, 5000);
    const record = await until(() => pair.history[seen], 60_000, 'the hang failover');
    detectMs.push(Date.parse(record.startedAt) - injectedAtWallMs);
    totals.push(record.totalMs);
    console.log(
      `guest hang ${run}/3: declared after ${Date.parse(record.startedAt) - injectedAtWallMs} ms, failover ${record.totalMs} ms`,
    );
    await until(() => (pair.state === 'protected' ? true : undefined), 120_000, 're-protection');
  }
  return { detectMsMedian: round(median(detectMs)), failoverMsMedian: round(median(totals)) };
});

const panic = await withPair(async (pair) => {
  const detectMs: number[] = [];
  for (let run = 1; run <= 3; run += 1) {
    const seen = pair.history.length;
    const injectedAtWallMs = Date.now();
    await pair.activeVm?.machine.agent.injectPanic(3000).catch(() => undefined);
    const record = await until(() => pair.history[seen], 60_000, 'the panic failover');
    detectMs.push(Date.parse(record.startedAt) - injectedAtWallMs);
    console.log(
      `guest panic ${run}/3: GUEST_PANICKED ${Date.parse(record.startedAt) - injectedAtWallMs} ms after the request`,
    );
    await until(() => (pair.state === 'protected' ? true : undefined), 120_000, 're-protection');
  }
  return { detectMsMedian: round(median(detectMs)) };
});

console.log(
  JSON.stringify({
    accel: decision.accel,
    appMove: { runs, totalMsMedian: median(moves.map((r) => r.totalMs)), phasesMsMedian: movePhases },
    appCrash: crash,
    guestHang: hang,
    guestPanic: panic,
  }),
);
