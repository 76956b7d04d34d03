// The HangDetector's contract: the probes it is given, and the events it emits.
import type { Logger } from '../log.js';
import type { DetectorTimers } from './deadline.js';
import type { HangThresholds } from './thresholds.js';

export type HangSignal = 'heartbeat-silent' | 'sync-unanswered' | 'qmp-unresponsive' | 'no-cpu-progress';
/** Which pair of signals agreed: the guest (heartbeat + sync) or QEMU itself (QMP + CPU). */
export type HangKind = 'agent-unresponsive' | 'qmp-unresponsive';
export type SuspectSignal = 'heartbeat-silent' | 'qmp-unresponsive';
export type ClearReason = 'heartbeat-resumed' | 'sync-answered' | 'vm-not-running' | 'vm-resumed';

export interface HangEvent {
  vm: string;
  kind: HangKind;
  signals: HangSignal[];
  detectedAtMs: number;
  silenceMs: number;
}
export interface SuspectEvent {
  vm: string;
  signal: SuspectSignal;
  silenceMs: number;
  atMs: number;
}
export interface ClearedEvent {
  vm: string;
  reason: ClearReason;
  atMs: number;
}
export interface HangDetectorEvents {
  hang: [HangEvent];
  suspect: [SuspectEvent];
  cleared: [ClearedEvent];
}

export interface HangDetectorOptions {
  vm: string;
  /** ms since the agent's last heartbeat arrived (host monotonic); undefined before the first. */
  heartbeatAgeMs(): number | undefined;
  /** Resolves once the agent echoes `nonce`; a rejection (wrong nonce, error, closed) counts as unanswered. */
  sync(nonce: string, timeoutMs: number): Promise<void>;
  queryRunState(timeoutMs: number): Promise<{ isRunning: boolean; runState: string }>;
  /** A counter that grows while QEMU uses CPU (see processCpuTicksOf); undefined when unknown. */
  processProgress(): Promise<number | undefined>;
  /** Optional: host-seen STOP/RESUME; lets silence restart exactly at a resume. Returns the unsubscribe. */
  watchRunState?: (listener: (change: 'stopped' | 'resumed') => void) => () => void;
  thresholds?: Partial<HangThresholds>;
  /** The agent's heartbeat period (its hello): sets the default silence threshold. */
  heartbeatPeriodMs?: number;
  /** Host monotonic clock, the one heartbeatAgeMs is measured on (default performance.now). */
  clock?: { now(): number };
  timers?: DetectorTimers;
  log?: Logger;
}
