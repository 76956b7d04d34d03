import { describe, expect, it } from 'vitest';
import { heartbeatLevel, phaseBars, recentFailovers, tableRows } from '../../../../src/daemon/page/shape.js';
import { MiB } from '../../../../src/units.js';
import { demoOverview, WHOLE_VM_FAILOVER } from './fixtures.js';

describe('tableRows', () => {
  it('draws one row per VM (active first) and one for the monitor, every area a share of the budget', () => {
    const { table, status } = demoOverview();
    const rows = tableRows(table, status);
    expect(rows.map((row) => [row.user, row.role, row.totalBytes / MiB])).toEqual([
      ['vm-b', 'active', 256],
      ['vm-a', 'standby', 96],
      ['monitor', 'host', 384],
    ]);
    expect(rows.map((row) => row.segments.map((s) => [s.area, s.label, s.widthPct]))).toEqual([
      [
        ['os:vm-b', 'os', 13.04],
        ['app:kvd', 'kvd', 17.39],
        ['app:cache', 'cache', 4.35],
      ],
      [['os:vm-a', 'os', 13.04]],
      [
        ['monitor', 'monitor', 4.35],
        ['pool', 'pool', 47.83],
      ],
    ]);
    const allPct = rows.flatMap((row) => row.segments.map((s) => s.widthPct));
    expect(allPct.reduce((sum, pct) => sum + pct, 0)).toBeCloseTo(100, 1);
  });

  it('gives each app a colour index by its place among the app areas, kept wherever it runs', () => {
    const { table, status } = demoOverview();
    const segments = tableRows(table, status).flatMap((row) => row.segments);
    expect(segments.map((s) => [s.area, s.appIndex])).toEqual([
      ['os:vm-b', -1],
      ['app:kvd', 0],
      ['app:cache', 1],
      ['os:vm-a', -1],
      ['monitor', -1],
      ['pool', -1],
    ]);
  });

  it('adds a row without a role for a user the status does not name (a VM still booting)', () => {
    const { table, status } = demoOverview();
    const rows = tableRows(table, { ...status, vms: status.vms.filter((vm) => vm.name === 'vm-b') });
    expect(rows.map((row) => [row.user, row.role])).toEqual([
      ['vm-b', 'active'],
      ['vm-a', ''],
      ['monitor', 'host'],
    ]);
  });

  it('scales to the sum when the areas exceed the budget, and draws nothing for an empty budget', () => {
    const { table, status } = demoOverview();
    const over = { ...table, budgetBytes: 368 * MiB };
    const pool = tableRows(over, status)[2]?.segments[1];
    expect(pool).toMatchObject({ area: 'pool', widthPct: 47.83 });
    const empty = { epoch: 0, budgetBytes: 0, areas: [] };
    expect(tableRows(empty, { ...status, vms: [] })).toEqual([]);
  });
});

describe('phaseBars', () => {
  it('lays the phases end to end on the recovery time, like `baton history`', () => {
    expect(phaseBars(WHOLE_VM_FAILOVER)).toEqual([
      { name: 'detect', ms: 0, offsetPct: 0, widthPct: 0, isAfterRecovery: false },
      { name: 'fence', ms: 100, offsetPct: 0, widthPct: 10, isAfterRecovery: false },
      { name: 'plug', ms: 300, offsetPct: 10, widthPct: 30, isAfterRecovery: false },
      { name: 'start', ms: 400, offsetPct: 40, widthPct: 40, isAfterRecovery: false },
      { name: 'commit', ms: 200, offsetPct: 80, widthPct: 20, isAfterRecovery: false },
    ]);
  });

  it('marks the phases run after the recovery (re-protection) instead of stretching the scale', () => {
    // A real record under TCG: 1402.5 ms to recover (gaps between phases included), 10.6 s to re-protect.
    const phases = [1, 19, 15, 27, 94, 622, 492, 0, 10_600].map((ms, i) => ({ name: `p${i}`, ms }));
    const bars = phaseBars({ ...WHOLE_VM_FAILOVER, totalMs: 1402.5, phases });
    expect(bars.map((bar) => bar.isAfterRecovery)).toEqual([...Array(8).fill(false), true]);
    expect(bars[6]).toMatchObject({ offsetPct: 55.47, widthPct: 35.08 });
    expect(bars[8]).toMatchObject({ ms: 10_600, offsetPct: 0, widthPct: 100 });
    // Rounding to 0.1 ms per phase does not push the last recovery phase past the total.
    const exact = phaseBars({ ...WHOLE_VM_FAILOVER, totalMs: 999.8 });
    expect(exact.map((bar) => bar.isAfterRecovery)).toEqual([false, false, false, false, false]);
  });

  it('uses the phases so far for a failover still running (total 0)', () => {
    const running = {
      ...WHOLE_VM_FAILOVER,
      result: 'running',
      totalMs: 0,
      phases: [
        { name: 'fence', ms: 50 },
        { name: 'plug', ms: 150 },
      ],
    };
    expect(phaseBars(running).map((bar) => [bar.offsetPct, bar.widthPct, bar.isAfterRecovery])).toEqual([
      [0, 25, false],
      [25, 75, false],
    ]);
    expect(phaseBars({ ...running, phases: [] })).toEqual([]);
  });
});

describe('recentFailovers and heartbeatLevel', () => {
  it('shows the newest failovers first, at most the limit', () => {
    const history = ['a', 'b', 'c'].map((id) => ({ ...WHOLE_VM_FAILOVER, id }));
    expect(recentFailovers(history, 2).map((r) => r.id)).toEqual(['c', 'b']);
    expect(history.map((r) => r.id)).toEqual(['a', 'b', 'c']);
  });

  it.each([
    [null, 'none'],
    [0, 'ok'],
    [1500, 'ok'],
    [1501, 'late'],
    [3000, 'late'],
    [3001, 'silent'],
  ] as const)('calls a heartbeat %s ms old %s', (ageMs, level) => {
    expect(heartbeatLevel(ageMs)).toBe(level);
  });
});
