// Every QEMU of a state directory, found by its run directory: the record each launch leaves before QEMU starts.
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../log.js';
import { processStartTime, signalIfSame } from './identity.js';

/**
 * A run directory `<stateDir>/run/<vm>-XXXXXX` is created before its QEMU is spawned, and QEMU's
 * command line names it (its sockets and logs live there). So the directory is the launch's
 * journal entry: a daemon killed at any instant of a boot, a re-protection or a re-attach leaves
 * a directory naming every QEMU it may have started, and the next daemon finds each one in /proc.
 */
export interface Launch {
  runDir: string;
  /** The QEMU processes whose command line names `runDir` (none once it exited). */
  qemus: Array<{ pid: number; startTime: string }>;
}

const EXIT_POLL_MS = 50;
const EXIT_TIMEOUT_MS = 10_000;

/** The run directories under `runParent` and the live QEMUs naming each one (read from /proc). */
export function listLaunches(runParent: string): Launch[] {
  let entries: string[];
  try {
    entries = readdirSync(runParent).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const processes = liveQemus();
  return entries.map((entry) => {
    const runDir = join(resolve(runParent), entry);
    // The argv names `<runDir>/qmp.sock` and the like, as the daemon spelled the state directory
    // (maybe relative): match either spelling of the directory, with its separator.
    const spellings = [`${runDir}/`, `${join(runParent, entry)}/`];
    const qemus = processes.filter((p) => p.argv.some((arg) => spellings.some((s) => arg.includes(s))));
    return { runDir, qemus: qemus.map(({ pid, startTime }) => ({ pid, startTime })) };
  });
}

/**
 * Stops every QEMU launched under `runParent` except those in the run directories `keep` (the
 * VMs the daemon re-attaches), and removes their run directories (and those no QEMU runs in): SIGKILL (only while the pid
 * still names the process found), then waits for the exit. Returns one line per QEMU stopped or
 * directory removed, for the daemon to print. Throws when a QEMU survives its SIGKILL for 10 s.
 */
export async function stopLaunches(
  runParent: string,
  options: {
    keep?: ReadonlySet<string>;
    log: Logger;
    reason: string;
    /** Keep the run directories no QEMU runs in (a failed boot's serial console and log). */
    isExitedKept?: boolean;
  },
): Promise<string[]> {
  const keep = new Set([...(options.keep ?? [])].map((dir) => resolve(dir)));
  const lines: string[] = [];
  for (const launch of listLaunches(runParent)) {
    if (keep.has(launch.runDir)) continue;
    for (const qemu of launch.qemus) {
      if (!(await killAndWait(qemu.pid, qemu.startTime))) continue;
      lines.push(`stopped QEMU pid ${qemu.pid} (${launch.runDir}): ${options.reason}`);
      options.log.warn({ pid: qemu.pid, runDir: launch.runDir }, `stopped a QEMU: ${options.reason}`);
    }
    if (launch.qemus.length === 0 && options.isExitedKept === true) continue;
    await rm(launch.runDir, { recursive: true, force: true });
    if (launch.qemus.length === 0) lines.push(`removed ${launch.runDir}: no QEMU runs there`);
  }
  return lines;
}

/**
 * Stops every live QEMU whose command line names a path under `dir` (a scratch folder of a demo or
 * bench run, whose state directories lie one or two levels down). Returns one line per QEMU stopped.
 */
export async function stopQemusUnder(
  dir: string,
  options: { log: Logger; reason: string },
): Promise<string[]> {
  const prefix = `${resolve(dir)}/`;
  const lines: string[] = [];
  for (const qemu of liveQemus()) {
    if (!qemu.argv.some((arg) => arg.includes(prefix))) continue;
    if (!(await killAndWait(qemu.pid, qemu.startTime))) continue;
    lines.push(`stopped QEMU pid ${qemu.pid} (under ${dir}): ${options.reason}`);
    options.log.warn({ pid: qemu.pid, dir }, `stopped a QEMU: ${options.reason}`);
  }
  return lines;
}

/** SIGKILLs `pid` while it is still the process started at `startTime`, and waits for its exit. */
export async function killAndWait(pid: number, startTime: string): Promise<boolean> {
  if (!signalIfSame(pid, startTime, 'SIGKILL')) return false;
  await waitForExit(pid, startTime);
  return true;
}

async function waitForExit(pid: number, startTime: string): Promise<void> {
  const startedAtMs = performance.now();
  while (processStartTime(pid) === startTime && !isZombie(pid)) {
    if (performance.now() - startedAtMs > EXIT_TIMEOUT_MS)
      throw new Error(`QEMU pid ${pid} did not exit within ${EXIT_TIMEOUT_MS} ms of SIGKILL`);
    await new Promise((r) => setTimeout(r, EXIT_POLL_MS));
  }
}

function isZombie(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // Gone between the two reads.
  }
}

/** Every process whose executable name starts with qemu-system, with its argv and start time. */
function liveQemus(): Array<{ pid: number; startTime: string; argv: string[] }> {
  const found: Array<{ pid: number; startTime: string; argv: string[] }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // Exited while we looked.
    }
    const binary = argv[0]?.split('/').at(-1) ?? '';
    const startTime = processStartTime(pid);
    if (binary.startsWith('qemu-system') && startTime !== undefined) found.push({ pid, startTime, argv });
  }
  return found;
}
