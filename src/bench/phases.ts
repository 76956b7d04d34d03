// Maps a failover's timeline onto the report's phases (detect, fence, disk, plug, confirm, start, healthy, route).
import type { FailoverRecord } from '../state/history.js';
import { isOperationPhase, type OperationPhase } from '../state/phases.js';
import { BENCH_PHASES, type BenchPhase, type PhaseTimes } from './report.js';
import { roundTenth } from './stats.js';

/**
 * Which report phase each timeline phase counts in. A single-app move fences the app rather than
 * the VM: its stop, unplug and disk-detach are its fence. `commit` counts in `route`; `reprotect`
 * runs after the app is back and counts nowhere.
 */
const PHASE_OF: Readonly<Record<OperationPhase, BenchPhase | undefined>> = {
  fence: 'fence',
  stop: 'fence',
  unplug: 'fence',
  'disk-detach': 'fence',
  disk: 'disk',
  plug: 'plug',
  confirm: 'confirm',
  start: 'start',
  healthy: 'healthy',
  commit: undefined,
};

/**
 * The report's phases of one recovery. `detect` runs from the fault's injection (wall clock, as
 * the timeline's `startedAt` is) to the failover's first phase; a phase of a multi-app failover
 * (`plug:kvd-1`) counts in its phase; `route` is the rest of `totalMs`, the time from the last
 * timed phase to the client's first successful request (table commit, endpoint, client retry).
 */
export function toBenchPhases(
  record: Pick<FailoverRecord, 'startedAt' | 'phases'>,
  measured: { injectedAtWallMs: number; totalMs: number },
): PhaseTimes {
  const times = Object.fromEntries(BENCH_PHASES.map((p) => [p, 0])) as PhaseTimes;
  const detectedAfterMs = Math.max(0, Date.parse(record.startedAt) - measured.injectedAtWallMs);
  times.detect = detectedAfterMs;
  for (const phase of record.phases) {
    const base = phase.name.split(':')[0] ?? phase.name;
    if (base === 'detect') times.detect += phase.ms;
    const mapped = isOperationPhase(base) ? PHASE_OF[base] : undefined;
    if (mapped !== undefined) times[mapped] += phase.ms;
  }
  const timedMs = BENCH_PHASES.filter((p) => p !== 'route').reduce((sum, p) => sum + times[p], 0);
  times.route = Math.max(0, measured.totalMs - timedMs);
  for (const p of BENCH_PHASES) times[p] = roundTenth(times[p]);
  return times;
}

/** The sum of a failover's `plug` phases (one per app in a multi-app failover). */
export function plugMsOf(record: Pick<FailoverRecord, 'phases'>): number {
  return roundTenth(
    record.phases
      .filter((p) => (p.name.split(':')[0] ?? p.name) === 'plug')
      .reduce((sum, p) => sum + p.ms, 0),
  );
}
