// Real services in the Debian pair through the daemon: a test copy of an example config, and three faults under client traffic.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { parse, stringify } from 'yaml';
import type { HistoryView } from '../../src/daemon/views.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import type { TrafficConnector } from '../../src/traffic/store.js';
import { readBack, Traffic } from '../../src/traffic/traffic.js';
import { auditDaemon, qemuPidsUnder, until } from './audit.js';
import { BatonDaemon } from './daemon.js';

/** The Debian guest `make images` builds; BATON_IMAGE_DIR names another images/out. */
export const debianImageDir = join(
  process.env.BATON_IMAGE_DIR ?? join(PACKAGE_ROOT, 'images', 'out'),
  'debian',
);
export const isDebianImageThere = existsSync(join(debianImageDir, 'boot.json'));

type HistoryRecord = HistoryView[number];

const TRAFFIC_PAUSE_MS = 50;
const ACKS_BETWEEN_FAULTS = 10;
/** A Debian standby boots in 1-2.5 min under TCG on a loaded host; re-protection waits for it. */
const REPROTECT_TIMEOUT_MS = 420_000;
const FAILOVER_TIMEOUT_MS = 240_000;

/**
 * contrib/examples/<example> for a test: its own state dir, fault injection on, the endpoint on a
 * free port, the image by absolute path, and one restart in place before a crash loop moves the app.
 */
export function writeTestConfig(example: string, stateDir: string): string {
  const examplePath = join(PACKAGE_ROOT, 'contrib', 'examples', example);
  const config = parse(readFileSync(examplePath, 'utf8'));
  config.stateDir = stateDir;
  config.faultInjection = true;
  config.vms.image.disk = resolve(dirname(examplePath), config.vms.image.disk);
  if (process.env.BATON_TEST_BASE_MEMORY !== undefined)
    config.vms.baseMemory = process.env.BATON_TEST_BASE_MEMORY;
  for (const app of config.apps) {
    app.endpoint = 0;
    app.restart = { ...app.restart, max: 1 };
  }
  const path = join(stateDir, '..', `${example}`);
  writeFileSync(path, stringify(config));
  return path;
}

/** The last lines of each VM's serial console (the guest agent logs there), for a failure message. */
export function serialTails(stateDir: string, lineCount = 25): string {
  const runDir = join(stateDir, 'run');
  if (!existsSync(runDir)) return '(no run directory)';
  return readdirSync(runDir)
    .map((vm) => {
      const path = join(runDir, vm, 'serial.log');
      const lines = existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-lineCount) : [];
      return `--- ${vm} serial.log\n${lines.join('\n')}`;
    })
    .join('\n');
}

function describeRecord(record: HistoryRecord): string {
  const phases = record.phases.map((phase) => `${phase.name} ${Math.round(phase.ms)}`).join(', ');
  return `${record.kind} ${record.fromVm}→${record.toVm} ${record.result} in ${Math.round(record.totalMs)} ms (${phases})`;
}

async function waitForNewRecord(daemon: BatonDaemon, seen: number): Promise<HistoryRecord> {
  const startedAtMs = performance.now();
  for (;;) {
    const history = await daemon.history();
    const settled = history.filter((record) => record.result !== 'running');
    if (settled.length > seen) return settled[settled.length - 1] as HistoryRecord; // Oldest first.
    if (performance.now() - startedAtMs > FAILOVER_TIMEOUT_MS)
      throw new Error(`no new failover within ${FAILOVER_TIMEOUT_MS} ms:\n${daemon.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function waitProtected(daemon: BatonDaemon): Promise<number> {
  const startedAtMs = performance.now();
  for (;;) {
    const status = await daemon.status();
    if (status.state === 'protected' && status.vms.every((vm) => vm.state === 'running'))
      return Math.round(performance.now() - startedAtMs);
    if (status.state === 'blocked') throw new Error(`pair blocked: ${status.blockedReason}`);
    if (performance.now() - startedAtMs > REPROTECT_TIMEOUT_MS)
      throw new Error(`not protected again within ${REPROTECT_TIMEOUT_MS} ms (state ${status.state})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function waitForAcks(traffic: Traffic, count: number, what: string): Promise<void> {
  await until(
    () => (traffic.acknowledged.length >= count ? true : undefined),
    FAILOVER_TIMEOUT_MS,
    `${count} acknowledged writes ${what}`,
  );
}

export interface FaultRun {
  label: string;
  connector: TrafficConnector;
  app: string;
  answers: (port: number) => Promise<boolean>;
  /** The faults to run, in this order (default: all three). */
  faults?: ReadonlyArray<FaultName>;
}

export type FaultName = 'guest panic' | 'SIGKILL of the active QEMU' | 'app crash loop';

/**
 * Under traffic through the endpoint: a guest panic, a SIGKILL of the active QEMU, a crash loop of
 * the app, each followed by re-protection; then every acknowledged write read back and the audit.
 */
export async function runThreeFaults(daemon: BatonDaemon, run: FaultRun): Promise<HistoryRecord[]> {
  const status = await daemon.status();
  const app = status.apps.find((a) => a.name === run.app);
  expect(app?.state).toBe('running');
  const port = app?.endpointPort ?? 0;
  const traffic = new Traffic(run.connector, port, TRAFFIC_PAUSE_MS);
  const records: HistoryRecord[] = [];
  const log = (line: string) => console.log(`[integration] ${run.label}: ${line}`);
  try {
    await waitForAcks(traffic, ACKS_BETWEEN_FAULTS, 'before the first fault');
    const all: Array<{ name: FaultName; inject: () => Promise<void> }> = [
      {
        name: 'guest panic',
        inject: async () => {
          expect((await daemon.cli('inject', '--fault', 'panic')).exitCode).toBe(0);
        },
      },
      {
        name: 'SIGKILL of the active QEMU',
        inject: async () => {
          const active = (await daemon.status()).vms.find((vm) => vm.role === 'active');
          process.kill(active?.pid ?? -1, 'SIGKILL');
        },
      },
      {
        name: 'app crash loop',
        inject: async () => {
          // A starved guest's agent may answer the inject after the daemon's 3 s: the crash still
          // happens, and the restart counter or the history shows it; its exit code is only logged.
          const crash = async () => {
            const result = await daemon.cli('inject', '--fault', 'app-crash', '--app', run.app);
            if (result.exitCode !== 0) log(`inject app-crash exited ${result.exitCode}: ${result.stderr}`);
          };
          const before = (await daemon.status()).apps.find((a) => a.name === run.app)?.restarts ?? 0;
          await crash();
          const restarted = async () =>
            ((await daemon.status()).apps.find((a) => a.name === run.app)?.restarts ?? 0) > before;
          const startedAtMs = performance.now();
          while (!(await restarted())) {
            if (performance.now() - startedAtMs > FAILOVER_TIMEOUT_MS) throw new Error('no restart in place');
            await new Promise((r) => setTimeout(r, 250));
          }
          await waitForAcks(traffic, traffic.acknowledged.length + 1, 'after the restart in place');
          await crash();
        },
      },
    ];
    const wanted = run.faults ?? all.map((f) => f.name);
    const faults = all.filter((f) => wanted.includes(f.name));
    for (const fault of faults) {
      const acksBefore = traffic.acknowledged.length;
      await fault.inject();
      const record = await waitForNewRecord(daemon, records.length);
      records.push(record);
      log(`${fault.name} → ${describeRecord(record)}`);
      expect(record.result).toBe('succeeded');
      await waitForAcks(traffic, acksBefore + ACKS_BETWEEN_FAULTS, `after the ${fault.name}`);
      log(`protected again ${await waitProtected(daemon)} ms after the writes resumed`);
    }
    expect(records.map((r) => r.kind)).toEqual(
      faults.map((f) => (f.name === 'app crash loop' ? 'app' : 'whole-vm')),
    );
  } finally {
    await traffic.stop();
  }
  const acknowledged = traffic.acknowledged;
  const readable = await readBack(run.connector, port, acknowledged, 120_000);
  log(
    `writes acknowledged: ${acknowledged.length}, readable after failovers: ${readable} (${traffic.unanswered} unanswered, ${traffic.connections} connections)`,
  );
  expect(readable).toBe(acknowledged.length);
  await auditDaemon(daemon.stateDir, { daemonOutput: daemon.output(), answers: run.answers });
  return records;
}

const BOOT_TIMEOUT_MS = 600_000;

/**
 * The daemon of a test file on the Debian pair of `example` (contrib/examples), in a scratch state
 * directory: started before the file's tests (the guests' consoles in the error if the boot
 * fails), stopped after them with no QEMU left. Nothing starts when the image is not built.
 */
export function realGuestDaemon(example: string, label: string): BatonDaemon {
  if (!isDebianImageThere)
    console.log(`[integration] skipping ${label}: ${debianImageDir}/boot.json is absent (run make images)`);
  const scratch = mkdtempSync('/tmp/btr-');
  const stateDir = join(scratch, 'state');
  const daemon = new BatonDaemon(stateDir);
  beforeAll(async () => {
    if (!isDebianImageThere) return;
    mkdirSync(stateDir);
    const config = writeTestConfig(example, stateDir);
    const up = await daemon.start({}, ['--config', config], BOOT_TIMEOUT_MS).catch((error: Error) => {
      throw new Error(`${error.message}\n${serialTails(stateDir)}`);
    });
    console.log(`[integration] ${label}: the Debian pair up in ${up.upMs} ms`);
  }, BOOT_TIMEOUT_MS);
  afterAll(async () => {
    await daemon.kill('SIGTERM');
    expect(qemuPidsUnder(stateDir)).toEqual([]);
    rmSync(scratch, { recursive: true, force: true });
  }, 120_000);
  return daemon;
}
