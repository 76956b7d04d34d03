// Hang detector test setup: a scripted guest, agent, QMP and QEMU process on vitest's fake clock.
import { onTestFinished, vi } from 'vitest';
import { HangDetector } from '../../../src/detect/hang.js';
import type { ClearedEvent, HangEvent, SuspectEvent } from '../../../src/detect/hang-types.js';
import type { HangThresholds } from '../../../src/detect/thresholds.js';

/** The agent in these tests sends a heartbeat every 500 ms while the guest runs and is healthy. */
export const HEARTBEAT_PERIOD_MS = 500;

/**
 * What the fake VM does now; tests flip these fields as time passes. Heartbeats are computed
 * lazily: while the guest runs and is healthy the last one arrived at the latest multiple of
 * 500 ms; otherwise the last one stays where it was.
 */
export interface FakeVmState {
  /** false once the guest kernel or agent hangs: no heartbeats, no sync answers. */
  isGuestHealthy: boolean;
  /** false while the host has paused the VM (QMP stop). */
  isRunning: boolean;
  /** false when heartbeats get lost on the way even though the agent is healthy. */
  areHeartbeatsDelivered: boolean;
  /** false when the agent drops sync requests even though it runs. */
  areSyncsAnswered: boolean;
  /** false when QEMU's monitor stops answering (main loop stuck, process stopped). */
  isQmpResponsive: boolean;
  /** true while QEMU's threads use CPU. */
  isCpuProgressing: boolean;
  /** When set, sync rejects at once with this error instead of answering or staying silent. */
  syncError: Error | undefined;
  /** When set, query-status rejects at once with this error (the QMP connection closed). */
  qmpError: Error | undefined;
}

export interface FakeVm {
  state: FakeVmState;
  detector: HangDetector;
  hangs: HangEvent[];
  suspects: SuspectEvent[];
  cleared: ClearedEvent[];
  nonces: string[];
  statusQueries: number;
  /** Changes the VM; a guest that becomes able to answer answers the syncs it was sent meanwhile. */
  set(changes: Partial<FakeVmState>): void;
  /** Fires a host-side run-state change (a QMP STOP/RESUME event) to the detector's watcher. */
  emitRunState(change: 'stopped' | 'resumed'): void;
}

/** A detector on a fake VM with the default thresholds (silence 1500 ms, sync 1000 ms, QMP 2000 ms). */
export function createFakeVm(
  options: { thresholds?: Partial<HangThresholds>; watchRunState?: boolean } = {},
): FakeVm {
  // The fake clock starts at 0 with the VM and goes back to the real one when the test ends.
  vi.useFakeTimers({ now: 0 });
  onTestFinished(() => {
    vi.useRealTimers();
  });
  const state: FakeVmState = {
    isGuestHealthy: true,
    isRunning: true,
    areHeartbeatsDelivered: true,
    areSyncsAnswered: true,
    isQmpResponsive: true,
    isCpuProgressing: true,
    syncError: undefined,
    qmpError: undefined,
  };
  let lastBeatAtMs = 0;
  let cpuTicks = 0;
  let cpuSampledAtMs = 0;
  const pendingSyncs: Array<() => void> = [];
  let runStateListener: ((change: 'stopped' | 'resumed') => void) | undefined;
  const isAgentAlive = () => state.isGuestHealthy && state.isRunning;
  const detector = new HangDetector({
    vm: 'vm-a',
    heartbeatPeriodMs: HEARTBEAT_PERIOD_MS,
    clock: { now: () => Date.now() },
    ...(options.thresholds === undefined ? {} : { thresholds: options.thresholds }),
    heartbeatAgeMs: () => {
      const nowMs = Date.now();
      if (isAgentAlive() && state.areHeartbeatsDelivered) {
        lastBeatAtMs = nowMs - (nowMs % HEARTBEAT_PERIOD_MS);
      }
      return nowMs - lastBeatAtMs;
    },
    sync: (nonce) => {
      fake.nonces.push(nonce);
      if (state.syncError !== undefined) return Promise.reject(state.syncError);
      if (!state.areSyncsAnswered) return new Promise<void>(() => undefined);
      if (isAgentAlive()) return Promise.resolve();
      // The request waits in the port's buffer: the agent answers once the guest runs again.
      return new Promise<void>((resolve) => pendingSyncs.push(resolve));
    },
    queryRunState: () => {
      fake.statusQueries += 1;
      if (state.qmpError !== undefined) return Promise.reject(state.qmpError);
      if (!state.isQmpResponsive) return new Promise(() => undefined);
      return Promise.resolve({
        isRunning: state.isRunning,
        runState: state.isRunning ? 'running' : 'paused',
      });
    },
    processProgress: () => {
      const nowMs = Date.now();
      if (state.isCpuProgressing) cpuTicks += Math.max(1, Math.floor((nowMs - cpuSampledAtMs) / 10));
      cpuSampledAtMs = nowMs;
      return Promise.resolve(cpuTicks);
    },
    ...(options.watchRunState === true
      ? {
          watchRunState: (listener: (change: 'stopped' | 'resumed') => void) => {
            runStateListener = listener;
            return () => {
              runStateListener = undefined;
            };
          },
        }
      : {}),
  });
  const fake: FakeVm = {
    state,
    detector,
    hangs: [],
    suspects: [],
    cleared: [],
    nonces: [],
    statusQueries: 0,
    set: (changes) => {
      Object.assign(state, changes);
      if (isAgentAlive()) for (const answer of pendingSyncs.splice(0)) answer();
    },
    emitRunState: (change) => runStateListener?.(change),
  };
  detector.on('hang', (event) => fake.hangs.push(event));
  detector.on('suspect', (event) => fake.suspects.push(event));
  detector.on('cleared', (event) => fake.cleared.push(event));
  return fake;
}

/** Lets `ms` of fake time pass, running every timer and promise callback due on the way. */
export async function elapse(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}
