// Declares one VM hung only when two independent signals agree: never on one missed heartbeat.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type DetectorTimers, isUnanswered, NODE_TIMERS, ProbeDeadlines } from './deadline.js';
import type {
  ClearReason,
  HangDetectorEvents,
  HangDetectorOptions,
  HangKind,
  HangSignal,
  SuspectSignal,
} from './hang-types.js';
import { type HangThresholds, resolveHangThresholds } from './thresholds.js';

export type * from './hang-types.js';

/**
 * Checks one VM every `checkIntervalMs`. Silence counts from the last heartbeat, but never from
 * before start(), reset(), or the VM last seen paused or resumed. Past the threshold the VM is
 * suspect: not running (a host `stop`, a panic) → not a hang; running and a fresh `sync` nonce
 * unanswered (and still running after) → hang 'agent-unresponsive'; `query-status` unanswered
 * and the QEMU process used no CPU meanwhile → hang 'qmp-unresponsive'. One `hang` event, then
 * the detector idles until reset(). Start it after the agent's hello.
 */
export class HangDetector extends EventEmitter<HangDetectorEvents> {
  readonly vm: string;
  readonly thresholds: HangThresholds;
  private readonly deps: HangDetectorOptions;
  private readonly clock: { now(): number };
  private readonly timers: DetectorTimers;
  private readonly deadlines: ProbeDeadlines;
  private readonly suspected = new Set<SuspectSignal>();
  private timer: unknown;
  private hasTimer = false;
  private isStarted = false;
  private isDeclared = false;
  private isKnownPaused = false;
  private baselineAtMs = 0;
  private runStateChanges = 0;
  private unwatch: (() => void) | undefined;

  constructor(options: HangDetectorOptions) {
    super();
    this.vm = options.vm;
    this.deps = options;
    this.thresholds = resolveHangThresholds(options.thresholds, options.heartbeatPeriodMs);
    this.clock = options.clock ?? performance;
    this.timers = options.timers ?? NODE_TIMERS;
    this.deadlines = new ProbeDeadlines(this.timers);
  }

  get state(): 'stopped' | 'watching' | 'suspect' | 'hung' {
    if (this.isDeclared) return 'hung';
    if (!this.isStarted) return 'stopped';
    return this.suspected.size > 0 ? 'suspect' : 'watching';
  }

  start(): void {
    if (this.isStarted) return;
    this.isStarted = true;
    this.unwatch = this.deps.watchRunState?.((change) => this.onRunStateChange(change));
    this.restart();
  }

  /** Stops checking: clears the timer and cancels the probes in flight. */
  stop(): void {
    if (!this.isStarted) return;
    this.isStarted = false;
    this.unwatch?.();
    this.unwatch = undefined;
    this.restart();
  }

  /** Forgets everything (a declared hang too) and measures silence from now. */
  reset(): void {
    this.isDeclared = false;
    this.isKnownPaused = false;
    this.suspected.clear();
    this.restart();
  }

  private restart(): void {
    this.deadlines.cancelAll();
    if (this.hasTimer) this.timers.clearTimeout(this.timer);
    this.hasTimer = false;
    this.baselineAtMs = this.clock.now();
    this.schedule(this.deadlines.generation);
  }

  private schedule(run: number): void {
    if (run !== this.deadlines.generation || !this.isStarted || this.isDeclared) return;
    this.hasTimer = true;
    this.timer = this.timers.setTimeout(() => {
      this.hasTimer = false;
      this.check(run).then(
        () => this.schedule(run),
        (error: unknown) => {
          // Safe to go on: the next check starts again from fresh readings.
          this.deps.log?.error({ vm: this.vm, err: error }, 'hang check failed');
          this.schedule(run);
        },
      );
    }, this.thresholds.checkIntervalMs);
  }

  private async check(run: number): Promise<void> {
    const { heartbeatSilenceMs, qmpTimeoutMs, syncTimeoutMs } = this.thresholds;
    const isSilent = this.silenceMs() > heartbeatSilenceMs;
    if (!isSilent) this.clearSuspicion('heartbeat-resumed');
    // While the VM is paused, poll its state every check to see the resume promptly.
    if (!isSilent && !this.isKnownPaused) return;
    if (isSilent) this.suspect('heartbeat-silent');
    const changesBefore = this.runStateChanges;
    const cpuBefore = isSilent ? await this.sampleProgress(run) : undefined;
    const status = await this.deadlines.run(run, () => this.deps.queryRunState(qmpTimeoutMs), qmpTimeoutMs);
    if (isSilent && isUnanswered(status)) return this.checkQemuProgress(run, cpuBefore);
    // A refused or failed query (QMP closed: its own detector) proves nothing; the next check retries.
    if (status.status !== 'answered') return;
    if (!status.value.isRunning) return this.noteRunState(true);
    if (this.isKnownPaused) return this.noteRunState(false);
    const nonce = randomBytes(8).toString('hex');
    const reply = await this.deadlines.run(run, () => this.deps.sync(nonce, syncTimeoutMs), syncTimeoutMs);
    if (reply.status === 'answered') {
      this.baselineAtMs = this.clock.now();
      return this.clearSuspicion('sync-answered');
    }
    // A sync that could not be asked (channel closed) or got a wrong answer is not a silent guest.
    if (!isUnanswered(reply)) return;
    if (this.silenceMs() <= heartbeatSilenceMs) return this.clearSuspicion('heartbeat-resumed');
    // Confirm the VM ran through the whole sync window: a host `stop` meanwhile explains the silence.
    const after = await this.deadlines.run(run, () => this.deps.queryRunState(qmpTimeoutMs), qmpTimeoutMs);
    if (after.status !== 'answered') return; // QMP went quiet: the next check takes the QMP path.
    if (!after.value.isRunning) return this.noteRunState(true);
    if (this.runStateChanges !== changesBefore) return;
    this.declare(run, 'agent-unresponsive', ['heartbeat-silent', 'sync-unanswered']);
  }

  /** QMP did not answer in time: a hang only if QEMU also used no CPU over that time. */
  private async checkQemuProgress(run: number, cpuBefore: number | undefined): Promise<void> {
    this.suspect('qmp-unresponsive');
    const cpuAfter = await this.sampleProgress(run);
    if (cpuBefore === undefined || cpuAfter === undefined) return;
    if (cpuAfter !== cpuBefore) {
      this.deps.log?.info({ vm: this.vm, cpuBefore, cpuAfter }, 'QMP unresponsive but QEMU progressing');
      return;
    }
    this.declare(run, 'qmp-unresponsive', ['heartbeat-silent', 'qmp-unresponsive', 'no-cpu-progress']);
  }

  private async sampleProgress(run: number): Promise<number | undefined> {
    const { qmpTimeoutMs } = this.thresholds;
    const sample = await this.deadlines.run(run, () => this.deps.processProgress(), qmpTimeoutMs);
    return sample.status === 'answered' ? sample.value : undefined;
  }

  private silenceMs(): number {
    const ageMs = this.deps.heartbeatAgeMs() ?? Number.NaN;
    const sinceBaselineMs = this.clock.now() - this.baselineAtMs;
    return Number.isNaN(ageMs) ? sinceBaselineMs : Math.min(ageMs, sinceBaselineMs);
  }

  private onRunStateChange(change: 'stopped' | 'resumed'): void {
    this.runStateChanges += 1;
    this.noteRunState(change === 'stopped');
  }

  /** Paused or just resumed: the silence so far is explained, so it counts again from now. */
  private noteRunState(isPaused: boolean): void {
    this.isKnownPaused = isPaused;
    this.baselineAtMs = this.clock.now();
    this.clearSuspicion(isPaused ? 'vm-not-running' : 'vm-resumed');
  }

  private suspect(signal: SuspectSignal): void {
    if (this.suspected.has(signal)) return;
    this.suspected.add(signal);
    const event = { vm: this.vm, signal, silenceMs: this.silenceMs(), atMs: this.clock.now() };
    this.deps.log?.info(event, 'VM suspected of hanging');
    this.emit('suspect', event);
  }

  private clearSuspicion(reason: ClearReason): void {
    if (this.suspected.size === 0) return;
    this.suspected.clear();
    const event = { vm: this.vm, reason, atMs: this.clock.now() };
    this.deps.log?.info(event, 'hang suspicion cleared');
    this.emit('cleared', event);
  }

  private declare(run: number, kind: HangKind, signals: HangSignal[]): void {
    if (run !== this.deadlines.generation || this.isDeclared) return;
    this.isDeclared = true;
    const event = { vm: this.vm, kind, signals, detectedAtMs: this.clock.now(), silenceMs: this.silenceMs() };
    this.deps.log?.warn(event, 'VM hang declared');
    this.emit('hang', event);
  }
}
