// `baton demo`: the main job on the built-in pair. Boots it, starts kvd (hot-standby) and cache
// (ordinary), drives client traffic through kvd's stable endpoint the whole time, then an app
// crash (restart in place), a crash loop (kvd moves alone) and a guest panic of the VM running kvd (whole VM), showing
// the table after each step and every failover's timeline; ends with the acknowledged writes and
// how many of them were readable afterwards.
import { rm } from 'node:fs/promises';
import { type HistoryView, historyView, type TableView, tableView } from '../daemon/views.js';
import type { FailoverRecord } from '../failover/timeline.js';
import type { Logger } from '../log.js';
import { VirtioMemMechanism } from '../memory/virtio-mem.js';
import { defaultPairConfig } from '../pair/config.js';
import { Pair } from '../pair/pair.js';
import type { PairVm } from '../pair/vm-factory.js';
import { queryMemorySizeSummary } from '../qmp/commands.js';
import { connectKvd } from '../traffic/kvd.js';
import { readBack, Traffic } from '../traffic/traffic.js';
import { formatBytes, formatMs } from '../units.js';
import type { AccelRequest } from '../vm/accel.js';
import { resolveAccel } from '../vm/host-accel.js';
import { readRssBytes } from '../vm/host-memory.js';
import { createScratchDir } from '../vm/scratch-dir.js';
import { renderTable } from './format.js';
import { renderResourceTable, renderTimeline } from './render.js';

export interface DemoOptions {
  accel: AccelRequest;
  /** Writes acknowledged before the first fault is injected. */
  keys: number;
  /** Print only the result as JSON (on `print`); the running commentary goes to `progress`. */
  json: boolean;
  log: Logger;
  print: (line: string) => void;
  /** Where the commentary goes in JSON mode (stderr). */
  progress: (line: string) => void;
}

export interface DemoResult {
  accel: string;
  writesAcknowledged: number;
  writesReadable: number;
  restartsInPlace: number;
  failovers: HistoryView;
  tables: Array<{ step: string; table: TableView }>;
}

/** The app the traffic goes to, and the one the faults are aimed at. */
const APP = 'kvd';
const TRAFFIC_PAUSE_MS = 20;
const PROGRESS_EVERY_MS = 5000;

/** Runs the demo and always stops the guests it started; returns what `--json` prints. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const say = options.json ? options.progress : options.print;
  const decision = await resolveAccel(options.accel);
  say(`accelerator: ${decision.accel.toUpperCase()} (${decision.reason})`);
  const stateDir = await createScratchDir('demo');
  const tables: DemoResult['tables'] = [];
  let pair: Pair | undefined;
  let traffic: Traffic | undefined;
  let result: DemoResult | undefined;
  try {
    const started = performance.now();
    const ticker = setInterval(() => say(`  ... ${formatMs(performance.now() - started)}`), 3000);
    try {
      pair = await Pair.start(defaultPairConfig(stateDir), {
        log: options.log,
        accel: decision.accel,
        mechanism: new VirtioMemMechanism({ log: options.log }),
        onProgress: say,
      });
    } finally {
      clearInterval(ticker);
    }
    const p = pair;
    const port = p.endpointPort(APP);
    say(
      `pair up in ${formatMs(performance.now() - started)}; ${p.config.apps
        .map(
          (a) =>
            `${a.name} (${a.hotStandby ? 'hot-standby' : 'ordinary'}) at 127.0.0.1:${p.endpointPort(a.name)}`,
        )
        .join(', ')}\n`,
    );
    await printGuests(p, say);
    const snapshot = (step: string) => {
      tables.push({ step, table: tableView(p) });
      say(`resource table after ${step}:\n${renderResourceTable(p.table)}\n`);
    };
    snapshot('start');

    traffic = new Traffic(connectKvd, port, TRAFFIC_PAUSE_MS);
    const t = traffic;
    say(
      `client traffic: SET traffic-<n> <n> through ${APP}'s endpoint, one connection, reconnecting on close`,
    );
    await waitFor(
      () => (t.acknowledged.length >= options.keys ? true : undefined),
      60_000,
      `${options.keys} acknowledged writes`,
      say,
    );
    say(`${t.acknowledged.length} writes acknowledged so far\n`);

    // 1. App crash: the policy restarts kvd in place; nothing is plugged or unplugged.
    const active = p.activeVm;
    if (active === undefined) throw new Error('the pair has no active VM');
    say(`step 1, app crash: killing ${APP} on ${active.machine.spec.name} ...`);
    const crashedAtMs = performance.now();
    await active.machine.agent.request('fault.app-crash', { name: APP }, 5000);
    await waitFor(
      () => ((p.supervision.restarts.get(APP) ?? 0) >= 1 ? true : undefined),
      60_000,
      `${APP} to restart in place`,
      say,
    );
    say(
      `${APP} restarted in place on ${active.machine.spec.name} in ${formatMs(performance.now() - crashedAtMs)}; ${t.acknowledged.length} writes acknowledged so far`,
    );
    snapshot('app crash');

    // 2. Crash loop: a quick second crash after the restart; kvd moves alone to the other VM.
    say(`step 2, crash loop: killing ${APP} again right after its restart ...`);
    await active.machine.agent.request('fault.app-crash', { name: APP }, 5000);
    const move = await waitFor(
      () => p.history.find((r) => r.kind === 'app'),
      120_000,
      `${APP} to move to the other VM`,
      say,
    );
    say(`\n${renderTimeline(move)}\n`);
    say(`${t.acknowledged.length} writes acknowledged so far`);
    snapshot('crash loop');

    // 3. Guest panic of the VM that runs kvd now (the standby, since step 2): the whole VM fails
    // over, kvd goes back to the other VM with its data, then the failed VM is booted small again.
    const kvdVm = p.table.areas.find((a) => a.name === `app:${APP}`)?.user ?? p.roles.active;
    const panicking = p.vms.get(kvdVm);
    if (panicking === undefined) throw new Error(`the pair has no VM ${kvdVm}`);
    say(
      `step 3, guest panic: injecting a kernel panic into ${kvdVm} (${kvdVm === p.roles.active ? 'the active' : 'the standby'}, where ${APP} runs) ...`,
    );
    await panicking.machine.agent.injectPanic(3000).catch(() => undefined); // The guest may die before it replies.
    const failover = await waitFor(
      () => p.history.find((r) => r.kind === 'whole-vm'),
      180_000,
      'the whole-VM failover',
      say,
    );
    say(`\n${renderTimeline(failover)}\n`);
    routeAppsLeftHeld(p, say);
    say(`re-protecting: booting ${p.roles.standby} small as the new standby ...`);
    await waitFor(() => (p.state === 'protected' ? true : undefined), 180_000, 're-protection', say);
    say(`${t.acknowledged.length} writes acknowledged so far`);
    await printGuests(p, say);
    snapshot('guest panic');

    await t.stop();
    traffic = undefined;
    say(
      `traffic stopped: ${t.acknowledged.length} writes acknowledged, ${t.unanswered} unanswered (not counted), ${Math.max(0, t.connections - 1)} reconnects`,
    );
    say(`reading back every acknowledged key through ${APP}'s endpoint ...`);
    const readable = await readBack(connectKvd, port, t.acknowledged, 120_000);
    say('');
    say('failovers:');
    for (const record of p.history) say(summary(record));
    say('');
    result = {
      accel: decision.accel,
      writesAcknowledged: t.acknowledged.length,
      writesReadable: readable,
      restartsInPlace: [...p.supervision.restarts.values()].reduce((sum, n) => sum + n, 0),
      failovers: historyView(p.history),
      tables,
    };
  } finally {
    await traffic?.stop();
    await pair?.stop();
    await rm(stateDir, { recursive: true, force: true });
    say('pair stopped');
  }
  if (result === undefined) throw new Error('The demo ended without a result');
  if (options.json) options.print(JSON.stringify(result));
  else
    options.print(
      `writes acknowledged: ${result.writesAcknowledged}, readable after failovers: ${result.writesReadable}`,
    );
  return result;
}

/**
 * A whole-VM failover holds every app's endpoint but routes again only the apps it moved, so an app
 * that was already running on the new active (kvd, moved there by the crash loop) would stay held
 * and its clients would wait forever. Route such an endpoint to where the app still runs.
 */
function routeAppsLeftHeld(pair: Pair, say: (line: string) => void): void {
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

function summary(record: FailoverRecord): string {
  return `  ${record.kind.padEnd(8)} ${record.trigger}: ${record.app ?? 'whole VM'} ${record.fromVm} → ${record.toVm}, ${record.result} in ${formatMs(record.totalMs)}`;
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

async function waitFor<T>(
  probe: () => T | undefined,
  timeoutMs: number,
  what: string,
  say: (line: string) => void,
): Promise<T> {
  const startedAtMs = performance.now();
  let saidAtMs = startedAtMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
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
