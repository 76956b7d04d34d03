// `baton demo`: boots the pair, runs kvd behind its stable endpoint, panics the active, shows the hand-off.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvClient } from '../endpoint/kv-client.js';
import type { Logger } from '../log.js';
import { VirtioMemMechanism } from '../memory/virtio-mem.js';
import { defaultPairConfig } from '../pair/config.js';
import { Pair } from '../pair/pair.js';
import type { PairVm } from '../pair/vm-factory.js';
import { queryMemorySizeSummary } from '../qmp/commands.js';
import { formatBytes, formatMs } from '../units.js';
import type { AccelRequest } from '../vm/accel.js';
import { resolveAccel } from '../vm/host-accel.js';
import { readRssBytes } from '../vm/host-memory.js';
import { renderTable } from './format.js';
import { renderResourceTable, renderTimeline } from './render.js';

export interface DemoOptions {
  accel: AccelRequest;
  keys: number;
  log: Logger;
  print: (line: string) => void;
}

/** Runs the demo and always stops the guests it started. */
export async function runDemo(options: DemoOptions): Promise<void> {
  const { print } = options;
  const decision = await resolveAccel(options.accel);
  print(`accelerator: ${decision.accel.toUpperCase()} (${decision.reason})`);
  const parent = join(process.env.BATON_RUN_DIR ?? join(tmpdir(), 'baton'));
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const stateDir = await mkdtemp(join(parent, 'demo-'));
  const started = performance.now();
  const ticker = setInterval(() => print(`  ... ${formatMs(performance.now() - started)}`), 3000);
  let pair: Pair | undefined;
  try {
    pair = await Pair.start(defaultPairConfig(stateDir), {
      log: options.log,
      accel: decision.accel,
      mechanism: new VirtioMemMechanism({ log: options.log }),
      onProgress: print,
    });
    clearInterval(ticker);
    print(
      `pair up in ${formatMs(performance.now() - started)}; kvd's stable endpoint is 127.0.0.1:${pair.endpointPort('kvd')}\n`,
    );
    await printGuests(pair, print);
    print(`resource table before the fault:\n${renderResourceTable(pair.table)}\n`);

    const port = pair.endpointPort('kvd');
    const client = await KvClient.connect(port);
    for (let i = 0; i < options.keys; i += 1) await client.request(`SET key${i} value${i}`);
    client.close();
    print(`wrote ${options.keys} keys through the endpoint (each acknowledged after fsync in the guest)`);

    const active = pair.activeVm;
    print(`injecting a kernel panic into ${active?.machine.spec.name} ...`);
    await active?.machine.agent.injectPanic(3000).catch(() => undefined); // The guest may die before it replies.
    const record = await waitFor(() => pair?.history[0], 180_000, 'the failover');
    const reader = await KvClient.connect(port, 60_000);
    let readBack = 0;
    for (let i = 0; i < options.keys; i += 1)
      if ((await reader.request(`GET key${i}`)) === `VALUE value${i}`) readBack += 1;
    reader.close();
    print(`\n${renderTimeline(record)}\n`);
    print(
      `read back ${readBack}/${options.keys} keys through the same endpoint, now served by ${pair.roles.active}\n`,
    );
    print(`resource table after the failover:\n${renderResourceTable(pair.table)}\n`);
    print(`re-protecting: booting ${pair.roles.standby} small as the new standby ...`);
    await waitFor(() => (pair?.state === 'protected' ? true : undefined), 120_000, 're-protection');
    await printGuests(pair, print);
  } finally {
    clearInterval(ticker);
    await pair?.stop();
    await rm(stateDir, { recursive: true, force: true });
    print('pair stopped');
  }
}

async function printGuests(pair: Pair, print: (line: string) => void): Promise<void> {
  const rows = [];
  for (const [role, vm] of [
    ['active', pair.activeVm],
    ['standby', pair.standbyVm],
  ] as Array<[string, PairVm | undefined]>) {
    if (vm === undefined) continue;
    const summary = await queryMemorySizeSummary(vm.machine.qmp);
    const status = await vm.machine.agent.memStatus(5000);
    rows.push([
      vm.machine.spec.name,
      role,
      formatMs(vm.bootMs),
      formatBytes(summary.baseMemoryBytes),
      formatBytes(summary.pluggedMemoryBytes),
      formatBytes((await readRssBytes(vm.machine.pid)) ?? 0),
      formatBytes(status.memTotalBytes),
      status.numaNodes.map((n) => `${n.id}:${formatBytes(n.memTotalBytes)}`).join(' '),
      `${vm.hello.agentVersion} ${vm.hello.bootId.slice(0, 8)}`,
    ]);
  }
  print('each VM as the host (QMP, /proc) and its guest agent see it:');
  print(
    renderTable(
      [
        'vm',
        'role',
        'boot→hello',
        'base',
        'plugged',
        'QEMU RSS',
        'guest MemTotal',
        'guest NUMA nodes',
        'agent, boot id',
      ],
      rows,
    ),
  );
  print('');
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const startedAtMs = performance.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() - startedAtMs > timeoutMs)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
