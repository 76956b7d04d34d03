// The status page's data shaping (rows of the table, bar widths, phase offsets): pure and self-contained, as
// each function is also copied into the page's script by its source text (html.ts), so no imports inside.
import type { HistoryView, StatusView, TableView } from '../views.js';

/** What the page polls: the three views `status`, `table` and `history` serve, taken at one instant. */
export interface Overview {
  status: StatusView;
  table: TableView;
  history: HistoryView;
}

export interface BarSegment {
  area: string;
  kind: string;
  /** What the bar says: an app's name without its prefix (`kvd` for `app:kvd`), `os` for a VM's own area. */
  label: string;
  sizeBytes: number;
  /** The area's share of the budget, in percent of a row's full width. */
  widthPct: number;
  /** Index of the app among the table's app areas (a stable colour per app), -1 for other kinds. */
  appIndex: number;
  user: string;
  onFailure: string;
  pluggedBytes: number;
}

export interface TableRow {
  /** A VM's name, or `monitor` for the monitor's own area and the pool. */
  user: string;
  /** `active` or `standby` for a VM the status names, `host` for the monitor, else empty. */
  role: string;
  totalBytes: number;
  segments: BarSegment[];
}

/**
 * One row per user of the table (the VMs in status order, active first, then the monitor), each
 * area a segment whose width is its share of the budget: every row is drawn on the same scale, so
 * the rows' segments together fill exactly one full width when the table sums to its budget.
 */
export function tableRows(table: TableView, status: StatusView): TableRow[] {
  const KIND_ORDER = ['os', 'app', 'monitor', 'pool'];
  const sumBytes = table.areas.reduce((sum, area) => sum + area.sizeBytes, 0);
  const scaleBytes = Math.max(table.budgetBytes, sumBytes);
  const appNames = table.areas.filter((area) => area.kind === 'app').map((area) => area.name);
  const users: string[] = status.vms.map((vm) => vm.name);
  for (const area of table.areas)
    if (!users.includes(area.user) && area.user !== 'monitor') users.push(area.user);
  if (table.areas.some((area) => area.user === 'monitor')) users.push('monitor');
  const rankOf = (kind: string) => {
    const rank = KIND_ORDER.indexOf(kind);
    return rank === -1 ? KIND_ORDER.length : rank;
  };
  return users.map((user) => {
    const areas = table.areas.filter((area) => area.user === user);
    const sorted = areas
      .map((area, index) => ({ area, index }))
      .sort((a, b) => rankOf(a.area.kind) - rankOf(b.area.kind) || a.index - b.index)
      .map((entry) => entry.area);
    const role = user === 'monitor' ? 'host' : (status.vms.find((vm) => vm.name === user)?.role ?? '');
    return {
      user,
      role,
      totalBytes: areas.reduce((sum, area) => sum + area.sizeBytes, 0),
      segments: sorted.map((area) => {
        const colon = area.name.indexOf(':');
        return {
          area: area.name,
          kind: area.kind,
          label: area.kind === 'os' ? 'os' : colon === -1 ? area.name : area.name.slice(colon + 1),
          sizeBytes: area.sizeBytes,
          widthPct: scaleBytes > 0 ? Math.round((area.sizeBytes / scaleBytes) * 10_000) / 100 : 0,
          appIndex: appNames.indexOf(area.name),
          user: area.user,
          onFailure: area.onFailure,
          pluggedBytes: area.pluggedBytes,
        };
      }),
    };
  });
}

export interface PhaseBar {
  name: string;
  ms: number;
  /** Where the phase starts and how long it is, in percent of the failover's recovery time. */
  offsetPct: number;
  widthPct: number;
  /** A phase run once the apps were back (re-protection): outside the recovery time, drawn apart. */
  isAfterRecovery: boolean;
}

/**
 * A failover's phases as a waterfall on the scale of its recovery time (`totalMs`): each bar
 * starts where the previous ended. Phases recorded after the failover finished (re-protection)
 * do not count in `totalMs`; the first phase that would end past it (beyond the records' 0.1 ms
 * rounding) and every one after it are marked instead of stretching the scale.
 */
export function phaseBars(record: HistoryView[number]): PhaseBar[] {
  const sumMs = record.phases.reduce((sum, phase) => sum + phase.ms, 0);
  const scaleMs = record.totalMs > 0 ? record.totalMs : Math.max(1, sumMs);
  const toleranceMs = 0.1 * record.phases.length;
  const pct = (ms: number) => Math.round((ms / scaleMs) * 10_000) / 100;
  let startMs = 0;
  let isAfter = false;
  return record.phases.map((phase) => {
    isAfter ||= record.totalMs > 0 && startMs + phase.ms > record.totalMs + toleranceMs;
    const bar = isAfter
      ? { name: phase.name, ms: phase.ms, offsetPct: 0, widthPct: 100, isAfterRecovery: true }
      : {
          name: phase.name,
          ms: phase.ms,
          offsetPct: pct(startMs),
          widthPct: pct(phase.ms),
          isAfterRecovery: false,
        };
    startMs += phase.ms;
    return bar;
  });
}

/** The newest `limit` failovers first (history is kept oldest first). */
export function recentFailovers(history: HistoryView, limit: number): HistoryView {
  return history.slice(-limit).reverse();
}

/** How fresh a heartbeat is: `ok` within 1.5 s, `late` within 3 s (the default silence), else `silent`. */
export function heartbeatLevel(ageMs: number | null): 'ok' | 'late' | 'silent' | 'none' {
  if (ageMs === null) return 'none';
  if (ageMs <= 1500) return 'ok';
  return ageMs <= 3000 ? 'late' : 'silent';
}
