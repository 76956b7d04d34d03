// Whole-VM failover N times (default 5) on one pair: each run panics the active, the failed VM is
// re-protected and becomes the next standby. Prints per-phase medians and QEMU RSS before and after.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvClient } from '../src/endpoint/kv-client.js';
import { createLogger } from '../src/log.js';
import { VirtioMemMechanism } from '../src/memory/virtio-mem.js';
import { defaultPairConfig } from '../src/pair/config.js';
import { Pair } from '../src/pair/pair.js';
import type { FailoverRecord } from '../src/state/history.js';
import { MiB } from '../src/units.js';
import { resolveAccel } from '../src/vm/host-accel.js';
import { readRssBytes } from '../src/vm/host-memory.js';

const runs = Number(process.argv[2] ?? 5);
const decision = await resolveAccel('auto');
console.log(`accelerator: ${decision.accel} (${decision.reason})`);
const stateDir = mkdtempSync(join(tmpdir(), 'baton-bench-fo-'));
const log = createLogger({ level: 'error' });
const pair = await Pair.start(defaultPairConfig(stateDir), {
  log,
  accel: decision.accel,
  mechanism: new VirtioMemMechanism({ log }),
});

async function rssMiB(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, vm] of pair.vms)
    out[`${name} (${pair.roles.active === name ? 'active' : 'standby'})`] = Math.round(
      ((await readRssBytes(vm.machine.pid)) ?? 0) / MiB,
    );
  return out;
}

async function until<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const start = performance.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const rssBefore = await rssMiB();
const records: FailoverRecord[] = [];
try {
  for (let run = 1; run <= runs; run += 1) {
    const client = await KvClient.connect(pair.endpointPort('kvd'));
    await client.request(`SET run${run} ok`);
    client.close();
    const seen = pair.history.length;
    await pair.activeVm?.machine.agent.injectPanic(3000).catch(() => undefined);
    const record = await until(() => pair.history[seen], 120_000);
    if (record.result !== 'succeeded') throw new Error(`failover ${run} ${record.result}: ${record.error}`);
    const reader = await KvClient.connect(pair.endpointPort('kvd'));
    const value = await reader.request(`GET run${run}`);
    reader.close();
    console.log(
      `run ${run}/${runs}: ${record.fromVm} → ${record.toVm} in ${record.totalMs} ms; GET run${run} → ${value}`,
    );
    records.push(record);
    await until(() => (pair.state === 'protected' ? true : undefined), 120_000);
  }
  const rssAfter = await rssMiB();
  const phaseNames = records[0]?.phases.map((p) => p.name).filter((n) => n !== 'reprotect') ?? [];
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const phases = Object.fromEntries(
    phaseNames.map((name) => [
      name,
      median(records.map((r) => r.phases.find((p) => p.name === name)?.ms ?? 0)),
    ]),
  );
  const reprotect = median(records.map((r) => r.phases.find((p) => p.name === 'reprotect')?.ms ?? 0));
  console.log(
    JSON.stringify({
      accel: decision.accel,
      runs,
      totalMsMedian: median(records.map((r) => r.totalMs)),
      phasesMsMedian: phases,
      reprotectMsMedian: reprotect,
      rssMiBBefore: rssBefore,
      rssMiBAfter: rssAfter,
    }),
  );
} finally {
  await pair.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
