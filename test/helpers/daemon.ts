// A baton daemon run as its own process (`baton up`) on a private state directory, killed and started again as a test needs.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { callApi } from '../../src/cli/client.js';
import type { HistoryView, StatusView } from '../../src/daemon/views.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

const BATON = join(PACKAGE_ROOT, 'bin', 'baton.js');
const UP_TIMEOUT_MS = 150_000;

/** One `baton up` process: its stdout and stderr together, and how long it took to say it is up. */
export interface RunningDaemon {
  process: ChildProcess;
  output: () => string;
  upMs: number;
}

export class BatonDaemon {
  readonly stateDir: string;
  /** The daemon started last (it may have exited since). */
  current: RunningDaemon | undefined;

  constructor(stateDir: string) {
    this.stateDir = stateDir;
  }

  get isRunning(): boolean {
    const child = this.current?.process;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** The `baton` command on this state directory (never rejects: check `exitCode`). */
  cli(...args: string[]) {
    return execa('node', [BATON, ...args], {
      reject: false,
      env: { BATON_STATE_DIR: this.stateDir },
      timeout: 60_000,
    });
  }

  /** Starts `baton up` and waits for `baton is up` (a re-attach, or a boot of the pair). */
  async start(
    env: Record<string, string> = {},
    args: string[] = [],
    upTimeoutMs = UP_TIMEOUT_MS,
  ): Promise<RunningDaemon> {
    const daemon = this.launch(env, args);
    const startedAtMs = performance.now();
    while (!daemon.output().includes('baton is up')) {
      if (performance.now() - startedAtMs > upTimeoutMs || daemon.process.exitCode !== null)
        throw new Error(`daemon did not come up within ${upTimeoutMs} ms:\n${daemon.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    daemon.upMs = Math.round(performance.now() - startedAtMs);
    return daemon;
  }

  /** Starts `baton up` without waiting for anything (a test that signals it while it starts). */
  launch(env: Record<string, string> = {}, args: string[] = []): RunningDaemon {
    const child = spawn('node', [BATON, 'up', ...args], {
      env: { ...process.env, BATON_STATE_DIR: this.stateDir, BATON_LOG_LEVEL: 'warn', ...env },
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    this.current = { process: child, output: () => output, upMs: 0 };
    return this.current;
  }

  /** Sends `signal` to the running daemon and waits for its exit (nothing when none runs). */
  async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.isRunning) return;
    const exited = this.exited();
    this.current?.process.kill(signal);
    await exited;
  }

  /** Resolves with the signal that ends the current daemon (null for an exit). */
  exited(): Promise<NodeJS.Signals | null> {
    const child = this.current?.process;
    if (child === undefined || !this.isRunning) return Promise.resolve(child?.signalCode ?? null);
    return new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  }

  /** `baton down`, then the daemon's exit; returns the command's exit code. */
  async down(): Promise<number | undefined> {
    const stopped = this.exited();
    const result = await this.cli('down');
    if (result.exitCode === 0) await stopped;
    return result.exitCode;
  }

  output(): string {
    return this.current?.output() ?? '';
  }

  async status(): Promise<StatusView> {
    return (await callApi(this.stateDir, 'GET', '/v1/status')) as StatusView;
  }

  async history(): Promise<HistoryView> {
    return (await callApi(this.stateDir, 'GET', '/v1/history')) as HistoryView;
  }
}

/** True while `pid` names a process that has not exited (a zombie counts as exited). */
export function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
