// `baton up`: the foreground daemon — lock, pair, control API on a unix socket, clean stop on SIGTERM.

import { mkdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ConflictError } from '../errors.js';
import type { Logger } from '../log.js';
import { VirtioMemMechanism } from '../memory/virtio-mem.js';
import type { PairConfig } from '../pair/config.js';
import { Pair } from '../pair/pair.js';
import { PairPersistence } from '../pair/persist.js';
import type { AccelRequest } from '../vm/accel.js';
import { resolveAccel } from '../vm/host-accel.js';
import { openForTraversal } from '../vm/qemu-user.js';
import { buildApi, listenOnSocket } from './api.js';
import { createController } from './controller.js';
import { EventBus, feedFromJournal } from './events.js';
import { acquireStateLock } from './lock.js';
import { createMetrics, serveMetrics } from './metrics.js';
import { recordCallers } from './peer.js';
import { historyView } from './views.js';

export function socketPathOf(stateDir: string): string {
  return join(stateDir, 'baton.sock');
}

/** True when something answers on `socketPath` (a live daemon); false for a stale or missing socket. */
export function isSocketLive(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Runs until SIGTERM/SIGINT or `down`: takes the state directory's lock, boots the pair, serves
 * the API. Resolves when everything it started has stopped.
 */
export async function runDaemon(options: {
  config: PairConfig;
  accel: AccelRequest;
  log: Logger;
  print: (line: string) => void;
  /** On SIGTERM/SIGINT, leave the VMs and apps running for the next daemon to re-attach (`down` still stops them). */
  leaveRunning?: boolean;
  /** Also serve GET /metrics on this loopback address (the config checks it is loopback). */
  metricsListen?: { host: string; port: number };
}): Promise<void> {
  const { config, log, print } = options;
  await mkdir(config.stateDir, { recursive: true, mode: 0o700 });
  openForTraversal(config.stateDir); // QEMU's own user passes through to its run directory.
  const lock = await acquireStateLock(config.stateDir);
  const socketPath = socketPathOf(config.stateDir);
  let pair: Pair | undefined;
  try {
    if (await isSocketLive(socketPath)) throw new ConflictError(`A daemon already answers on ${socketPath}`);
    const decision = await resolveAccel(options.accel);
    print(`accelerator: ${decision.accel} (${decision.reason})`);
    const metrics = createMetrics(() => pair);
    const opened = await PairPersistence.open(config.stateDir, { log });
    for (const warning of opened.warnings) print(`state: ${warning}`);
    // Faults, phases and failovers reach `baton events` through the journal, from the first one on.
    const bus = new EventBus();
    feedFromJournal(
      opened.persistence.journal,
      bus,
      (id) => historyView((pair?.history ?? []).filter((r) => r.id === id && r.result !== 'running'))[0],
    );
    if (opened.loaded.doc !== undefined)
      print(
        `state: loaded epoch ${opened.loaded.doc.epoch} from ${opened.loaded.source === 'current' ? 'state.json' : 'the previous copy'}`,
      );
    const startedAtMs = performance.now();
    pair = await Pair.start(config, {
      log,
      accel: decision.accel,
      mechanism: new VirtioMemMechanism({ log }),
      onProgress: print,
      persistence: opened.persistence,
      ...(opened.loaded.doc === undefined ? {} : { saved: opened.loaded.doc }),
      ...(opened.attach === undefined ? {} : { attach: opened.attach }),
    });
    await opened.persistence.flush();
    print(`pair ${pair.startedBy.how} in ${Math.round(performance.now() - startedAtMs)} ms`);
    const seen = new Set<string>();
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        print('stopping the pair ...');
        await api.close();
        await pair?.stop();
      })();
      return stopping;
    };
    const controller = createController(pair, metrics, stop, bus);
    const api = buildApi(controller, log);
    const journal = opened.persistence.journal;
    recordCallers(api, log, (fields) => void journal.append('api', fields).catch(() => undefined));
    await listenOnSocket(api, socketPath);
    const metricsServer =
      options.metricsListen === undefined
        ? undefined
        : await serveMetrics(metrics, options.metricsListen, controller);
    if (metricsServer !== undefined) {
      const base = `http://${options.metricsListen?.host}:${options.metricsListen?.port}`;
      print(`metrics: ${base}/metrics, status page: ${base}/`);
    }
    const recordTimer = setInterval(() => {
      for (const record of pair?.history ?? []) {
        if (record.result === 'running' || seen.has(record.id)) continue;
        seen.add(record.id);
        metrics.recordFailover(record);
      }
    }, 500);
    print(`baton is up: control socket ${socketPath}`);
    for (const app of config.apps) print(`  ${app.name}: 127.0.0.1:${pair.endpointPort(app.name)}`);
    await new Promise<void>((resolve) => {
      const onSignal = () => {
        if (options.leaveRunning !== true) return void stop().then(resolve);
        stopping ??= (async () => {
          print('leaving the VMs and apps running for the next daemon ...');
          await api.close();
          await pair?.leaveRunning();
        })();
        void stopping.then(resolve);
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      void api.server.once('close', () => void stop().then(resolve));
    });
    clearInterval(recordTimer);
    await metricsServer?.close();
  } finally {
    await pair?.stop();
    await rm(socketPath, { force: true });
    await lock.release();
  }
}
