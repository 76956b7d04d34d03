// `baton demo`: the main job on a real pair. Boots it (by default Redis in Debian guests from
// contrib/examples/redis.yaml; `--guest builtin` the busybox pair with kvd), drives client traffic
// through the app's stable endpoint the whole time, then an app crash (restart in place), a crash
// loop (the app moves alone) and a guest panic of the VM running the app (whole VM), showing the
// table after each step and every failover's timeline; ends with the acknowledged writes and how
// many of them were readable afterwards.
import { type HistoryView, historyView, type TableView, tableView } from '../daemon/views.js';
import type { Logger } from '../log.js';
import { VirtioMemMechanism } from '../memory/virtio-mem.js';
import { Pair } from '../pair/pair.js';
import { freshScratchDir } from '../recovery/scratch-sweep.js';
import { readBack, Traffic } from '../traffic/traffic.js';
import { formatMs } from '../units.js';
import type { AccelRequest } from '../vm/accel.js';
import { resolveAccel } from '../vm/host-accel.js';
import { type DemoGuest, demoProfile } from './demo-guests.js';
import { printGuests, routeAppsLeftHeld, summary, waitFor } from './demo-support.js';
import { renderResourceTable, renderTimeline } from './render.js';

export interface DemoOptions {
  accel: AccelRequest;
  /** Which guests: Redis in Debian (the default) or kvd in the built-in busybox image. */
  guest: DemoGuest;
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
  guest: DemoGuest;
  app: string;
  writesAcknowledged: number;
  writesReadable: number;
  restartsInPlace: number;
  failovers: HistoryView;
  tables: Array<{ step: string; table: TableView }>;
}

const TRAFFIC_PAUSE_MS = 20;
const BOOT_TICK_MS = 3000;

/** Runs the demo and always stops the guests it started; returns what `--json` prints. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const say = options.json ? options.progress : options.print;
  const profile = demoProfile(options.guest);
  const APP = profile.app;
  const scratch = await freshScratchDir('demo', options.log, say);
  const stateDir = scratch.dir;
  const tables: DemoResult['tables'] = [];
  let pair: Pair | undefined;
  let traffic: Traffic | undefined;
  let result: DemoResult | undefined;
  try {
    // The config first: a missing image fails here, before any guest starts.
    const config = await profile.pairConfig(stateDir);
    const decision = await resolveAccel(options.accel);
    say(`accelerator: ${decision.accel.toUpperCase()} (${decision.reason})`);
    say(`guests: ${profile.title}`);
    const started = performance.now();
    const ticker = setInterval(() => say(`  ... ${formatMs(performance.now() - started)}`), BOOT_TICK_MS);
    try {
      pair = await Pair.start(config, {
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
    // A VM boot (re-protection) may take as long as the guest's hello is allowed to.
    const bootTimeoutMs = p.config.helloTimeoutMs + 120_000;
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

    traffic = new Traffic(profile.connect, port, TRAFFIC_PAUSE_MS);
    const t = traffic;
    say(
      `client traffic: SET traffic-<n> <n> through ${APP}'s endpoint with ${profile.client}, one connection, reconnecting on close`,
    );
    await waitFor(
      () => (t.acknowledged.length >= options.keys ? true : undefined),
      120_000,
      `${options.keys} acknowledged writes`,
      say,
    );
    say(`${t.acknowledged.length} writes acknowledged so far\n`);

    // 1. App crash: the policy restarts the app in place; nothing is plugged or unplugged.
    const active = p.activeVm;
    if (active === undefined) throw new Error('the pair has no active VM');
    const restarts = () => p.supervision.restarts.get(APP) ?? 0;
    say(`step 1, app crash: killing ${APP} on ${active.machine.spec.name} ...`);
    const crashedAtMs = performance.now();
    await active.machine.agent.request('fault.app-crash', { name: APP }, 5000);
    await waitFor(() => (restarts() >= 1 ? true : undefined), 120_000, `${APP} to restart in place`, say);
    say(
      `${APP} restarted in place on ${active.machine.spec.name} in ${formatMs(performance.now() - crashedAtMs)}; ${t.acknowledged.length} writes acknowledged so far`,
    );
    snapshot('app crash');

    // 2. Crash loop: the app is killed again each time it comes back, until the policy calls it a
    // crash loop (quick failures in a row) and moves it alone to the other VM.
    say(`step 2, crash loop: killing ${APP} again each time right after its restart ...`);
    let kills = 0;
    let seenRestarts = restarts();
    const crashLoopStartedAtMs = performance.now();
    const move = await waitFor(
      () => p.history.find((r) => r.kind === 'app'),
      180_000,
      `${APP} to move to the other VM`,
      say,
      async () => {
        if (kills > 0 && restarts() === seenRestarts) return;
        if (kills > 0) say(`  ${APP} restarted in place again: killing it again`);
        seenRestarts = restarts();
        kills += 1;
        await active.machine.agent.request('fault.app-crash', { name: APP }, 5000).catch(() => undefined);
      },
    );
    say(
      `${APP} crash-looped (${kills} kills in ${formatMs(performance.now() - crashLoopStartedAtMs)}) and moved:`,
    );
    say(`\n${renderTimeline(move)}\n`);
    say(`${t.acknowledged.length} writes acknowledged so far`);
    snapshot('crash loop');

    // 3. Guest panic of the VM that runs the app now (the standby, since step 2): the whole VM fails
    // over, the app goes back to the other VM with its data, then the failed VM is booted small again.
    const appVm = p.table.areas.find((a) => a.name === `app:${APP}`)?.user ?? p.roles.active;
    const panicking = p.vms.get(appVm);
    if (panicking === undefined) throw new Error(`the pair has no VM ${appVm}`);
    say(
      `step 3, guest panic: injecting a kernel panic into ${appVm} (${appVm === p.roles.active ? 'the active' : 'the standby'}, where ${APP} runs) ...`,
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
    await waitFor(() => (p.state === 'protected' ? true : undefined), bootTimeoutMs, 're-protection', say);
    say(`${t.acknowledged.length} writes acknowledged so far`);
    await printGuests(p, say);
    snapshot('guest panic');

    await t.stop();
    traffic = undefined;
    say(
      `traffic stopped: ${t.acknowledged.length} writes acknowledged, ${t.unanswered} unanswered (not counted), ${Math.max(0, t.connections - 1)} reconnects`,
    );
    say(`reading back every acknowledged key through ${APP}'s endpoint ...`);
    const readable = await readBack(profile.connect, port, t.acknowledged, 120_000);
    say('');
    say('failovers:');
    for (const record of p.history) say(summary(record));
    say('');
    result = {
      accel: decision.accel,
      guest: profile.guest,
      app: APP,
      writesAcknowledged: t.acknowledged.length,
      writesReadable: readable,
      restartsInPlace: [...p.supervision.restarts.values()].reduce((sum, n) => sum + n, 0),
      failovers: historyView(p.history),
      tables,
    };
  } finally {
    try {
      await traffic?.stop();
      await pair?.stop();
    } finally {
      // Stops whatever QEMU the pair left, then removes the folder and its signal handlers.
      await scratch.remove();
    }
    if (pair !== undefined) say('pair stopped');
  }
  if (result === undefined) throw new Error('The demo ended without a result');
  if (options.json) options.print(JSON.stringify(result));
  else
    options.print(
      `writes acknowledged: ${result.writesAcknowledged}, readable after failovers: ${result.writesReadable}`,
    );
  return result;
}
