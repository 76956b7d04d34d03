// The demo's helpers: waiting with progress lines, routing an endpoint a whole-VM failover left held, the guests' table.
import type { FailoverRecord } from '../failover/timeline.js';
import type { Pair } from '../pair/pair.js';
import type { PairVm } from '../pair/vm-factory.js';
import { queryMemorySizeSummary } from '../qmp/commands.js';
import { formatBytes, formatMs } from '../units.js';
import { readRssBytes } from '../vm/host-memory.js';
import { renderTable } from './format.js';

const PROGRESS_EVERY_MS = 5000;

/**
 * A whole-VM failover holds every app's endpoint but routes again only the apps it moved, so an app
 * that was already running on the new active (kvd, moved there by the crash loop) would stay held
 * and its clients would wait forever. Route such an endpoint to where the app still runs.
 */
export function routeAppsLeftHeld(pair: Pair, say: (line: string) => void): void {
  const active = pair.activeVm;
  if (active === undefined) return;
  const vm = active.machine.spec.name;
  for (const app of pair.config.apps) {
    const endpoint = pair.endpoints.get(app.name);
    const hostPort = active.forwards.get(app.name);
    const area = pair.table.areas.find((a) => a.name === `app:${app.name}`);
    if (endpoint === undefined || endpoint.currentTarget !== undefined || hostPort === undefined) continue;
    if (area?.user !== vm) continue;
    endpoint.route({ host: '127.0.0.1', port: hostPort, vm });
    say(`${app.name} kept running on ${vm}: its endpoint routes there again`);
  }
}

export function summary(record: FailoverRecord): string {
  return `  ${record.kind.padEnd(8)} ${record.trigger}: ${record.app ?? 'whole VM'} ${record.fromVm} → ${record.toVm}, ${record.result} in ${formatMs(record.totalMs)}`;
}

export async function printGuests(pair: Pair, print: (line: string) => void): Promise<void> {
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

/** Polls `probe` every 100 ms until it returns a value, saying so every 5 s; `act` runs after each empty poll. */
export async function waitFor<T>(
  probe: () => T | undefined,
  timeoutMs: number,
  what: string,
  say: (line: string) => void,
  act?: () => Promise<void>,
): Promise<T> {
  const startedAtMs = performance.now();
  let saidAtMs = startedAtMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    await act?.();
    const nowMs = performance.now();
    if (nowMs - startedAtMs > timeoutMs)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    if (nowMs - saidAtMs >= PROGRESS_EVERY_MS) {
      saidAtMs = nowMs;
      say(`  ... waiting for ${what} (${formatMs(nowMs - startedAtMs)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
