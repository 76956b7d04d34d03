// One QEMU process: launched in a private run directory, driven over QMP, stopped with quit then SIGKILL.
import { accessSync, constants, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { type AgentChannel, connectAgent } from '../agent/channel.js';
import type { Hello } from '../agent/protocol.js';
import { InvalidInputError, MissingDependencyError, VmLaunchError } from '../errors.js';
import type { Logger } from '../log.js';
import { loadNative } from '../native/binding.js';
import type { QmpClient } from '../qmp/client.js';
import { quitVm } from '../qmp/commands.js';
import { connectQmp } from '../qmp/connect.js';
import { processStartTime, signalIfSame } from '../recovery/identity.js';
import { QEMU_BINARY } from './argv.js';
import { spawnQemu } from './spawn-qemu.js';
import { type MachineSpec, type RunPaths, runPathsOf } from './spec.js';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type ShutdownHow = 'quit' | 'killed' | 'already-exited';

const MAX_SOCKET_PATH_BYTES = 107;

/** Creates a fresh private (0700) run directory for a VM under `parent`. */
export async function createRunDir(parent: string, vmName: string): Promise<string> {
  const dir = await mkdtemp(join(parent, `${vmName}-`));
  // mkdtemp creates the directory 0700: only this user can reach the sockets inside.
  return dir;
}

/** Finds an executable on PATH; MissingDependencyError with the Debian package when absent. */
export function resolveQemuBinary(binary: string = QEMU_BINARY): string {
  const candidates = binary.includes('/')
    ? [binary]
    : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, binary));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not here: try the next PATH entry.
    }
  }
  throw new MissingDependencyError(
    `QEMU (${binary})`,
    'install it with `apt-get install qemu-system-x86` or run `make setup`',
  );
}

export class Machine {
  readonly spec: MachineSpec;
  readonly paths: RunPaths;
  readonly argv: readonly string[];
  readonly pid: number;
  /** /proc/<pid>/stat start time: every signal re-checks it, so a reused pid is never signalled. */
  readonly startTime: string;
  /** True when this daemon found QEMU already running (a restart) instead of spawning it. */
  readonly isAttached: boolean;
  readonly qmp: QmpClient;
  readonly agent: AgentChannel;
  /** Host monotonic time when QEMU was spawned. */
  readonly spawnedAtMs: number;
  readonly exited: Promise<ExitStatus>;
  private readonly log: Logger;
  /** Lets the daemon exit while QEMU runs on: unrefs the child, or closes the pidfd watch. */
  private readonly letGo: () => void;
  private exitStatus: ExitStatus | undefined;

  private constructor(fields: {
    spec: MachineSpec;
    argv: string[];
    pid: number;
    startTime: string;
    isAttached: boolean;
    letGo: () => void;
    exited: Promise<ExitStatus>;
    qmp: QmpClient;
    agent: AgentChannel;
    spawnedAtMs: number;
    log: Logger;
  }) {
    this.spec = fields.spec;
    this.paths = runPathsOf(fields.spec.runDir);
    this.argv = fields.argv;
    this.pid = fields.pid;
    this.startTime = fields.startTime;
    this.isAttached = fields.isAttached;
    this.letGo = fields.letGo;
    this.exited = fields.exited;
    this.qmp = fields.qmp;
    this.agent = fields.agent;
    this.spawnedAtMs = fields.spawnedAtMs;
    this.log = fields.log;
    void this.exited.then((status) => {
      this.exitStatus = status;
    });
  }

  /**
   * Starts QEMU for `spec` in its run directory (which must exist, 0700) and connects QMP and the
   * agent socket. Throws MissingDependencyError for a missing binary or image, VmLaunchError
   * (exit code, argv, log tail) when QEMU exits or never answers QMP.
   */
  static async launch(
    spec: MachineSpec,
    options: { log: Logger; qemuBinary?: string; qmpTimeoutMs?: number },
  ): Promise<Machine> {
    const log = options.log.child({ vm: spec.name, role: spec.role });
    const binary = resolveQemuBinary(options.qemuBinary);
    if (spec.kernelPath !== undefined) checkImage(spec.kernelPath, 'kernel');
    if (spec.initrdPath !== undefined) checkImage(spec.initrdPath, 'initramfs');
    if (spec.rootDisk !== undefined) checkImage(spec.rootDisk.basePath, 'root disk base');
    checkRunDir(spec.runDir);
    const paths = runPathsOf(spec.runDir);
    const spawnedAtMs = performance.now();
    const { child, argv: args, user } = spawnQemu(binary, spec, paths);
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: null, signal: null }));
    });
    let isAlive = true;
    void exited.then(() => {
      isAlive = false;
    });
    log.info({ pid: child.pid, accel: spec.accel, qemuUser: user.reason }, 'QEMU started');
    const fail = async (detail: string): Promise<never> => {
      if (isAlive) child.kill('SIGKILL');
      const status = await exited;
      throw new VmLaunchError({
        vm: spec.name,
        detail,
        exitCode: status.code,
        signal: status.signal,
        argv: [binary, ...args],
        logTail: await readTail(paths.qemuLog),
      });
    };
    let qmp: QmpClient;
    try {
      qmp = await connectQmp(paths.qmpSocket, {
        vm: spec.name,
        log,
        timeoutMs: options.qmpTimeoutMs ?? 15_000,
        isAlive: () => isAlive,
      });
    } catch (error) {
      return fail(
        isAlive ? `QMP did not answer: ${(error as Error).message}` : 'QEMU exited during start-up',
      );
    }
    let agent: AgentChannel;
    try {
      agent = await connectAgent(paths.agentSocket, { vm: spec.name, log });
    } catch (error) {
      qmp.close();
      return fail(`cannot connect to the agent socket: ${(error as Error).message}`);
    }
    return new Machine({
      spec,
      argv: [binary, ...args],
      pid: child.pid ?? -1,
      startTime: processStartTime(child.pid ?? -1) ?? '0',
      isAttached: false,
      letGo: () => child.unref(),
      exited,
      qmp,
      agent,
      spawnedAtMs,
      log,
    });
  }

  /**
   * Re-attaches to a QEMU a previous daemon launched (pid and start time already verified by the
   * caller): no spawn; connects QMP and the agent in the existing run directory and watches the
   * exit with a pidfd (it is not our child). Throws when a socket does not answer.
   */
  static async attach(
    spec: MachineSpec,
    options: { pid: number; startTime: string; log: Logger; qmpTimeoutMs?: number },
  ): Promise<Machine> {
    const log = options.log.child({ vm: spec.name, role: spec.role });
    const paths = runPathsOf(spec.runDir);
    const { pid, startTime } = options;
    const { exited, stop } = watchExit(pid, startTime, log);
    let isAlive = processStartTime(pid) === startTime;
    void exited.then(() => {
      isAlive = false;
    });
    const qmp = await connectQmp(paths.qmpSocket, {
      vm: spec.name,
      log,
      timeoutMs: options.qmpTimeoutMs ?? 5_000,
      isAlive: () => isAlive,
    });
    let agent: AgentChannel;
    try {
      agent = await connectAgent(paths.agentSocket, { vm: spec.name, log });
    } catch (error) {
      qmp.close();
      throw error;
    }
    log.info({ pid }, 'QEMU re-attached');
    return new Machine({
      spec,
      argv: [],
      pid,
      startTime,
      isAttached: true,
      letGo: stop,
      exited,
      qmp,
      agent,
      spawnedAtMs: performance.now(),
      log,
    });
  }

  get isRunning(): boolean {
    return this.exitStatus === undefined;
  }

  /**
   * Waits for the agent's hello; the timeout error points at the serial console and at the agent
   * package (a guest without the agent never says hello).
   */
  waitForHello(timeoutMs: number): Promise<Hello> {
    return this.agent.waitForHello(
      timeoutMs,
      `see the serial console at ${this.paths.serialLog}; a guest image needs the guest agent: install the baton-agent package in it (README, "Installing the agent in your own guest")`,
    );
  }

  /**
   * Stops QEMU: QMP `quit`, then SIGKILL if it has not exited within `timeoutMs`; waits for the
   * exit, closes the channels and removes the run directory (unless `keepRunDir`).
   */
  async shutdown(
    options: { timeoutMs?: number; keepRunDir?: boolean } = {},
  ): Promise<{ how: ShutdownHow; durationMs: number }> {
    const startedAtMs = performance.now();
    const timeoutMs = options.timeoutMs ?? 5_000;
    let how: ShutdownHow = 'already-exited';
    if (this.isRunning) {
      how = 'quit';
      // quit may lose its reply when QEMU closes the socket first: the exit is the confirmation.
      quitVm(this.qmp, timeoutMs).catch(() => undefined);
      const status = await exitWithin(this.exited, timeoutMs);
      if (status === undefined) {
        how = 'killed';
        this.log.warn({ timeoutMs }, 'QEMU did not quit in time; sending SIGKILL');
        this.signal('SIGKILL');
        await this.exited;
      }
    }
    this.qmp.close();
    this.agent.close();
    if (options.keepRunDir !== true) await rm(this.spec.runDir, { recursive: true, force: true });
    const durationMs = performance.now() - startedAtMs;
    this.log.info({ how, durationMs }, 'QEMU stopped');
    return { how, durationMs };
  }

  /** SIGKILLs QEMU at once (fault injection and last-resort fencing) and waits for the exit. */
  async kill(): Promise<ExitStatus> {
    if (this.isRunning) this.signal('SIGKILL');
    return this.exited;
  }

  /**
   * Leaves QEMU running for the next daemon to re-attach: closes QMP and the agent channel and
   * stops watching the process, so this daemon can exit. The run directory stays.
   */
  detach(): void {
    this.qmp.close();
    this.agent.close();
    this.letGo();
    this.log.info({ pid: this.pid }, 'QEMU left running');
  }

  /** Signals QEMU only while its pid still names the process started at `startTime`. */
  private signal(signal: NodeJS.Signals): void {
    if (!signalIfSame(this.pid, this.startTime, signal)) {
      this.log.warn({ pid: this.pid, signal }, 'not signalling: the pid no longer names this QEMU');
    }
  }
}

/**
 * The exit of a process that is not our child: a pidfd watch (the exit is seen within
 * milliseconds), or, without the native addon, a poll of /proc every 100 ms.
 */
function watchExit(
  pid: number,
  startTime: string,
  log: Logger,
): { exited: Promise<ExitStatus>; stop: () => void } {
  let stop: () => void = () => undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    const done = () => resolve({ code: null, signal: null });
    try {
      const watch = loadNative().watchProcess(pid, () => {
        watch.close();
        done();
      });
      stop = () => watch.close();
      // The process may have exited before the watch was armed.
      if (processStartTime(pid) !== startTime) {
        watch.close();
        done();
      }
      return;
    } catch (error) {
      log.warn({ err: (error as Error).message }, 'no pidfd watch; polling /proc for the QEMU exit');
    }
    const timer = setInterval(() => {
      if (processStartTime(pid) === startTime) return;
      clearInterval(timer);
      done();
    }, 100);
    timer.unref();
    stop = () => clearInterval(timer);
  });
  return { exited, stop };
}

function checkImage(path: string, what: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new MissingDependencyError(`The guest ${what} ${path}`, 'build the guest image with `make images`');
  }
}

function checkRunDir(runDir: string): void {
  const longest = `${runDir}/agent.sock`;
  if (Buffer.byteLength(longest) > MAX_SOCKET_PATH_BYTES) {
    throw new InvalidInputError(
      `Run directory path too long for unix sockets (max ${MAX_SOCKET_PATH_BYTES} bytes): ${runDir}`,
    );
  }
  const stat = statSync(runDir);
  if (!stat.isDirectory() || (stat.mode & 0o077) !== 0) {
    throw new InvalidInputError(`Run directory must be a private (0700) directory: ${runDir}`);
  }
}

async function readTail(path: string, maxLines = 20): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text.trimEnd().split('\n').slice(-maxLines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * The exit status, or undefined when `exited` has not resolved within `timeoutMs`. The timer is
 * cleared at the exit: a pending one would keep a stopping daemon's process alive for the rest
 * of the timeout.
 */
export async function exitWithin(
  exited: Promise<ExitStatus>,
  timeoutMs: number,
): Promise<ExitStatus | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    return await Promise.race([exited, late]);
  } finally {
    clearTimeout(timer);
  }
}
