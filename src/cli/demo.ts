// `baton demo`: boots the active and the standby guest side by side and shows what each agent reports.
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { queryMemorySizeSummary } from '../qmp/commands.js';
import { formatBytes, formatMs } from '../units.js';
import type { AccelRequest } from '../vm/accel.js';
import { type BootedGuest, bootGuest } from '../vm/boot.js';
import { defaultPairSpecs } from '../vm/defaults.js';
import { resolveAccel } from '../vm/host-accel.js';
import { readRssBytes } from '../vm/host-memory.js';
import { renderTable } from './format.js';

export interface DemoOptions {
  accel: AccelRequest;
  json: boolean;
  log: Logger;
  print: (line: string) => void;
}

/** Runs the demo; always stops the guests it started. Returns the report it printed. */
export async function runDemo(options: DemoOptions): Promise<Record<string, unknown>> {
  const { print } = options;
  const decision = await resolveAccel(options.accel);
  if (!options.json) print(`accelerator: ${decision.accel.toUpperCase()} (${decision.reason})`);
  const runParent = join(process.env.BATON_RUN_DIR ?? join(tmpdir(), 'baton'), 'demo');
  await mkdir(runParent, { recursive: true, mode: 0o700 });
  const specs = defaultPairSpecs(decision.accel);
  if (!options.json)
    print(
      `booting ${specs.map((s) => `${s.name} (${s.role}, ${formatBytes(s.baseMemoryBytes)})`).join(' and ')} ...`,
    );
  const started = performance.now();
  const ticker = options.json
    ? undefined
    : setInterval(() => print(`  ... ${formatMs(performance.now() - started)} elapsed`), 2000);
  const results = await Promise.allSettled(
    specs.map((spec) => bootGuest(spec, { runParent, log: options.log })),
  );
  if (ticker !== undefined) clearInterval(ticker);
  const guests = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const report = await collectReport(guests, decision);
    if (options.json) print(JSON.stringify(report, null, 2));
    else printReport(report.vms, print);
    return report;
  } finally {
    await Promise.all(guests.map((g) => g.machine.shutdown()));
    if (!options.json) print('both guests stopped');
  }
}

async function collectReport(guests: BootedGuest[], decision: { accel: string; reason: string }) {
  const vms = await Promise.all(
    guests.map(async ({ machine, hello, bootMs }) => ({
      name: machine.spec.name,
      role: machine.spec.role,
      pid: machine.pid,
      bootMs: Math.round(bootMs),
      baseBytes: machine.spec.baseMemoryBytes,
      qemu: await queryMemorySizeSummary(machine.qmp),
      qemuRssBytes: (await readRssBytes(machine.pid)) ?? 0,
      hello,
    })),
  );
  return { accel: decision.accel, accelReason: decision.reason, vms };
}

type VmReport = Awaited<ReturnType<typeof collectReport>>['vms'][number];

function printReport(vms: VmReport[], print: (line: string) => void): void {
  const rows = vms.map((vm) => [
    vm.name,
    vm.role,
    formatMs(vm.bootMs),
    formatBytes(vm.baseBytes),
    formatBytes(vm.qemu.pluggedMemoryBytes),
    formatBytes(vm.qemuRssBytes),
    formatBytes(vm.hello.memTotalBytes),
    vm.hello.numaNodes.map((n) => `${n.id}:${formatBytes(n.memTotalBytes)}`).join(' '),
    vm.hello.bootId.slice(0, 8),
  ]);
  print('');
  print('host view (QMP, /proc) and guest view (agent hello) of each VM:');
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
        'boot id',
      ],
      rows,
    ),
  );
  print('');
}
