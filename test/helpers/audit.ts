// Checks shared by the integration tests: leftover QEMUs, the table against QEMU, deadline polling, the daemon audit.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expect } from 'vitest';
import { callApi } from '../../src/cli/client.js';
import type { HistoryView, StatusView, TableView } from '../../src/daemon/views.js';
import { slotOfDeviceId } from '../../src/memory/mechanism.js';
import { pingOnce } from '../../src/pair/health.js';
import type { Pair } from '../../src/pair/pair.js';
import { queryMemoryDevices } from '../../src/qmp/commands.js';
import { appAreaName, assertInvariants, compareWithQemu } from '../../src/table/index.js';
import { MiB } from '../../src/units.js';

/** QEMU processes whose command line mentions `dir`, read from /proc (not from our own records). */
export function qemuPidsUnder(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmdline.includes('qemu-system') && cmdline.includes(dir);
      } catch {
        return false; // Exited while we looked.
      }
    })
    .map(Number);
}

/** Polls `probe` until it returns a value; throws naming `what` after `timeoutMs`. */
export async function until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const startedAtMs = performance.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() - startedAtMs > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** I2: the table sums to the budget, and matches what QEMU reports plugged on every VM of the pair. */
export async function expectTableMatchesQemu(pair: Pair): Promise<void> {
  assertInvariants(pair.table);
  for (const vm of pair.vms.values()) {
    const devices = (await queryMemoryDevices(vm.machine.qmp)).flatMap((d) =>
      'sizeBytes' in d ? [{ slot: slotOfDeviceId(d.id) ?? d.id, pluggedBytes: d.sizeBytes }] : [],
    );
    expect(compareWithQemu(pair.table, vm.machine.spec.name, devices)).toEqual([]);
  }
}

/** What the daemon's API said at the end of an audit. */
export interface DaemonAudit {
  status: StatusView;
  table: TableView;
  history: HistoryView;
  /** The epoch of state.json, to pass as `previousEpoch` to the next audit. */
  savedEpoch: number;
}

/** Why an ordinary app may run nowhere once things settle: the pool cannot grant it (README, "How failover works"). */
const POOL_WAIT = /^pool has \d+ MiB, needs \d+ MiB$/;

/** Protected (every app running, or an ordinary app waiting for the pool) or visibly blocked. */
/**
 * Protected (or visibly blocked) with every app either running with its area in the table or
 * waiting for the pool. An ordinary app runs before its area exists: it starts on an empty slot
 * and its agent asks for the memory, so until the grant commits the daemon is not idle yet.
 */
function isSettled(status: StatusView, table: TableView): boolean {
  if (status.state === 'blocked') return true;
  return (
    status.state === 'protected' &&
    status.apps.every((app) =>
      app.state === 'running'
        ? table.areas.some((a) => a.name === appAreaName(app.name))
        : POOL_WAIT.test(app.reason ?? ''),
    )
  );
}

/** GET of the daemon's control API (what `baton --json status|table|history` prints). */
async function getView<T>(stateDir: string, view: 'status' | 'table' | 'history'): Promise<T> {
  return (await callApi(stateDir, 'GET', `/v1/${view}`)) as T;
}

/**
 * The audit every fault test ends with (docs/reliability.md, I1-I5), against a running daemon on
 * `stateDir`: its control API (`status`, `table`, `history`, as `baton --json` prints them), the
 * QEMU processes in /proc and the files.
 * Waits up to `settleTimeoutMs` for the pair to settle (protected or visibly blocked, nothing in
 * flight), then fails the test on the first invariant broken.
 */
export async function auditDaemon(
  stateDir: string,
  options: {
    daemonOutput?: string;
    previousEpoch?: number;
    settleTimeoutMs?: number;
    /** Whether the app answers on its endpoint; default kvd's PING/PONG line. */
    answers?: (port: number) => Promise<boolean>;
  } = {},
): Promise<DaemonAudit> {
  const settleTimeoutMs = options.settleTimeoutMs ?? 120_000;
  const startedAtMs = performance.now();
  let status = await getView<StatusView>(stateDir, 'status');
  let table = await getView<TableView>(stateDir, 'table');
  while (!isSettled(status, table) && performance.now() - startedAtMs < settleTimeoutMs) {
    await new Promise((r) => setTimeout(r, 250));
    status = await getView<StatusView>(stateDir, 'status');
    table = await getView<TableView>(stateDir, 'table');
  }
  const history = await getView<HistoryView>(stateDir, 'history');
  expect(
    isSettled(status, table),
    `settled, not ${status.state}: ${JSON.stringify(status.apps)}; areas ${JSON.stringify(table.areas.map((a) => [a.name, a.user]))}${options.daemonOutput === undefined ? '' : `\n${options.daemonOutput}`}`,
  ).toBe(true);
  const liveVms = status.vms.filter((vm) => vm.state === 'running');
  const livePids = liveVms.map((vm) => vm.pid ?? -1).sort();
  const { saved, attach, files } = await readSavedFiles(stateDir, livePids);
  // I1: each app is served by one running VM (or the pair says why it is blocked), and the host's
  // evidence agrees: the only QEMUs under the state directory are the VMs the daemon runs.
  if (status.state === 'blocked') expect(status.blockedReason ?? '').not.toBe('');
  else {
    expect(status.vms.map((vm) => vm.state)).toEqual(['running', 'running']);
    for (const app of status.apps) {
      const area = table.areas.find((a) => a.name === appAreaName(app.name));
      // An ordinary app whose VM failed gave its area back to the pool; it runs again on the
      // active unless the pool cannot grant it, and then status says so with the numbers.
      if (area === undefined) {
        expect(app.vm, `${app.name} has no area, so no VM serves it`).toBeNull();
        expect(app.reason, `${app.name} waits for the pool, and says so`).toMatch(POOL_WAIT);
        continue;
      }
      expect(app.state, `${app.name} running`).toBe('running');
      expect(
        liveVms.map((vm) => vm.name),
        `${app.name} served by a running VM`,
      ).toContain(app.vm);
      expect(area.user, `${app.name}'s area belongs to the VM that serves it`).toBe(app.vm);
      const answers = options.answers ?? ((port: number) => pingOnce(port, 5_000));
      expect(await answers(app.endpointPort), `${app.name} answers on its endpoint`).toBe(true);
    }
  }
  expect(qemuPidsUnder(stateDir).sort(), 'QEMU processes under the state dir').toEqual(livePids);
  for (const pid of livePids) expect(processStateOf(pid), `QEMU ${pid} state`).toMatch(/^[RSD]$/);
  // I2: the table sums to the budget, one owner per area, whole blocks, app areas plugged as QEMU
  // reported them (the daemon compares with query-memory-devices on every re-attach: no drift).
  expect(table.areas.reduce((sum, a) => sum + a.sizeBytes, 0)).toBe(table.budgetBytes);
  expect(new Set(table.areas.map((a) => a.name)).size).toBe(table.areas.length);
  const owners = new Set(['monitor', ...status.vms.map((vm) => vm.name)]);
  for (const area of table.areas) {
    expect(area.sizeBytes % (2 * MiB), `${area.name} in whole blocks`).toBe(0);
    expect(owners, `${area.name}'s user`).toContain(area.user);
    if (area.kind === 'app' && liveVms.some((vm) => vm.name === area.user))
      expect(area.pluggedBytes, `${area.name} plugged`).toBe(area.sizeBytes);
  }
  expect(options.daemonOutput ?? '').not.toContain('table drift');
  // I3: nothing left in flight, and the saved epoch never goes back.
  expect(saved.body.operations, 'operations in flight in state.json').toEqual([]);
  expect(saved.epoch).toBeGreaterThanOrEqual(Math.max(status.epoch, options.previousEpoch ?? 0));
  // I4: no temp files (seen while no save ran), and run directories only for the VMs that run
  // (each with its sockets).
  expect(
    files.filter((file) => file.endsWith('.tmp')),
    'temp files with no save under way',
  ).toEqual([]);
  expect(files.filter((file) => file.endsWith('.sock'))).toEqual(['baton.sock']);
  expect(attach.vms.map((vm) => vm.pid).sort()).toEqual(livePids);
  expect(readdirSync(join(stateDir, 'run')).sort()).toEqual(
    attach.vms.map((vm) => basename(vm.runDir)).sort(),
  );
  // I5: each failover recorded once, none left running.
  expect(new Set(history.map((record) => record.id)).size).toBe(history.length);
  expect(history.filter((record) => record.result === 'running')).toEqual([]);
  return { status, table, history, savedEpoch: saved.epoch };
}

interface SavedFiles {
  saved: { epoch: number; body: { operations: unknown[] } };
  attach: { vms: Array<{ pid: number; runDir: string }> };
  /** The state directory's entries, listed while no save ran. */
  files: string[];
}

/**
 * state.json, vms.json and the directory's entries, read while the daemon saved nothing: its
 * status says no save is under way before and after the read, with the same count of saves
 * started. The daemon saves after a change without making callers wait, so this tries again for
 * up to 10 s until that holds and the files show the settled pair (the VMs `livePids`, nothing in
 * flight). A temp file in such a quiet read is a leak, never a save under way.
 */
async function readSavedFiles(stateDir: string, livePids: readonly number[]): Promise<SavedFiles> {
  const startedAtMs = performance.now();
  for (;;) {
    const before = (await getView<StatusView>(stateDir, 'status')).saves;
    const files: SavedFiles = {
      saved: JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')),
      attach: JSON.parse(readFileSync(join(stateDir, 'vms.json'), 'utf8')),
      files: readdirSync(stateDir),
    };
    const after = (await getView<StatusView>(stateDir, 'status')).saves;
    const isQuiet = !before.isSaving && !after.isSaving && before.started === after.started;
    const pids = files.attach.vms.map((vm) => vm.pid).sort();
    const isSettled =
      isQuiet &&
      files.saved.body.operations.length === 0 &&
      JSON.stringify(pids) === JSON.stringify(livePids);
    if (isSettled) return files;
    if (performance.now() - startedAtMs > 10_000) {
      expect(isQuiet, 'the daemon stopped saving within 10 s').toBe(true);
      return files;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The one-letter state of /proc/<pid>/stat (R, S, D, T, Z), or `gone`. */
function processStateOf(pid: number): string {
  try {
    return /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'gone';
  }
}
