// Hang detection thresholds: documented defaults, derived from the agent's heartbeat period, validated.
import { InvalidInputError } from '../errors.js';

export interface HangThresholds {
  /** Heartbeat silence (host receive times) after which the VM is suspect and gets checked. */
  heartbeatSilenceMs: number;
  /** How long a fresh `sync` nonce may take to come back before it counts as unanswered. */
  syncTimeoutMs: number;
  /** How long QMP `query-status` may take before QMP counts as unresponsive. */
  qmpTimeoutMs: number;
  /** Pause between the end of one check and the start of the next. */
  checkIntervalMs: number;
}

/** Heartbeat periods of silence before a VM is suspect: one or two lost heartbeats are normal. */
export const HEARTBEAT_SILENCE_PERIODS = 3;
/** Floor of the silence threshold, whatever the heartbeat period. */
export const MIN_HEARTBEAT_SILENCE_MS = 1500;

/**
 * Defaults, for the agent's default 500 ms heartbeat:
 * - heartbeatSilenceMs 1500: max(3 × heartbeat period, 1500).
 * - syncTimeoutMs 1000: a live agent answers in milliseconds.
 * - qmpTimeoutMs 2000: QEMU's monitor answers `query-status` in milliseconds unless its main loop is stuck.
 * - checkIntervalMs 250.
 * A stall shorter than heartbeatSilenceMs is never even checked, and a hang needs a second signal on
 * top, so nothing shorter than heartbeatSilenceMs + syncTimeoutMs can be declared. Worst-case
 * detection: silence + interval + syncTimeoutMs ≈ 2.75 s (agent path), + qmpTimeoutMs ≈ 3.75 s (QMP path).
 */
export const DEFAULT_HANG_THRESHOLDS: Readonly<HangThresholds> = Object.freeze({
  heartbeatSilenceMs: MIN_HEARTBEAT_SILENCE_MS,
  syncTimeoutMs: 1000,
  qmpTimeoutMs: 2000,
  checkIntervalMs: 250,
});

/** The silence threshold for an agent that sends a heartbeat every `heartbeatPeriodMs`. */
export function heartbeatSilenceFor(heartbeatPeriodMs: number): number {
  return Math.max(MIN_HEARTBEAT_SILENCE_MS, HEARTBEAT_SILENCE_PERIODS * heartbeatPeriodMs);
}

/**
 * Fills in the defaults (the silence threshold from `heartbeatPeriodMs` when given and not
 * overridden) and checks every value. Throws InvalidInputError on a non-positive or non-finite value.
 */
export function resolveHangThresholds(
  overrides: Partial<HangThresholds> = {},
  heartbeatPeriodMs?: number,
): HangThresholds {
  const thresholds: HangThresholds = {
    ...DEFAULT_HANG_THRESHOLDS,
    ...(heartbeatPeriodMs === undefined
      ? {}
      : { heartbeatSilenceMs: heartbeatSilenceFor(heartbeatPeriodMs) }),
    ...withoutUndefined(overrides),
  };
  for (const [name, valueMs] of Object.entries(thresholds)) {
    if (typeof valueMs !== 'number' || !Number.isFinite(valueMs) || valueMs <= 0) {
      throw new InvalidInputError(`hang threshold ${name}: expected a positive number of ms, got ${valueMs}`);
    }
  }
  return thresholds;
}

function withoutUndefined(overrides: Partial<HangThresholds>): Partial<HangThresholds> {
  return Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
}
