import { describe, expect, it } from 'vitest';
import {
  type AppHistory,
  type AppSeverity,
  DEFAULT_RESTART_BUDGET,
  type Decision,
  decide,
  EMPTY_HISTORY,
  type FaultSeverity,
  startedHistory,
  type VmFault,
} from '../../../src/policy/restart.js';

const kvd = { name: 'kvd', hotStandby: true };
const cron = { name: 'cron', hotStandby: false };
/** Long after the start: no failure here is quick, so only the budget matters. */
const LATE_MS = 1_000_000;

function fault(
  severity: FaultSeverity,
  options: { history?: AppHistory; nowMs?: number; app?: typeof kvd } = {},
): Decision {
  return decide({
    severity,
    app: options.app ?? kvd,
    history: options.history ?? startedHistory(0),
    nowMs: options.nowMs ?? LATE_MS,
  });
}

/** The history after `count` restarts in place at `atMs`, `atMs + stepMs`, ... of a long-running app. */
function afterRestarts(count: number, atMs: number, stepMs = 1000): AppHistory {
  let history = startedHistory(0);
  for (let i = 0; i < count; i += 1) {
    const nowMs = atMs + i * stepMs;
    const decision = decide({
      severity: 'failed',
      app: kvd,
      history,
      nowMs,
      crashLoop: { quickFailures: 99, minUptimeMs: 1 },
    });
    expect(decision.action).toBe('restart-in-place');
    history = decision.history;
  }
  return history;
}

describe('decide: mild faults restart in place while the budget lasts', () => {
  it.each<AppSeverity>(['clean', 'failed', 'crashed', 'killed'])(
    '%s with budget left → restart-in-place',
    (severity) => {
      const decision = fault(severity);
      expect(decision).toMatchObject({ action: 'restart-in-place', severityClass: 'mild', restartsLeft: 2 });
      expect(decision.reason).toMatch(/^kvd .*: restart 1 of 3 restarts within 60 s$/);
      expect(decision.history.restartsAtMs).toEqual([LATE_MS]);
      expect(decision.history.startedAtMs).toBe(LATE_MS);
    },
  );

  it('restarts an ordinary app in place the same way', () => {
    expect(fault('crashed', { app: cron })).toMatchObject({
      action: 'restart-in-place',
      severityClass: 'mild',
    });
  });

  it('says which restart of the budget it is', () => {
    const decision = fault('crashed', { history: afterRestarts(2, LATE_MS - 5000), nowMs: LATE_MS });
    expect(decision).toMatchObject({
      action: 'restart-in-place',
      reason: 'kvd crashed: restart 3 of 3 restarts within 60 s',
      restartsLeft: 0,
    });
  });
});

describe('decide: severe faults move the app', () => {
  it.each<AppSeverity>(['oom', 'hang'])('%s → move-app at once, with budget left', (severity) => {
    const decision = fault(severity);
    expect(decision).toMatchObject({ action: 'move-app', severityClass: 'severe', restartsLeft: 3 });
    expect(decision.reason).toMatch(/: move it to the standby$/);
    expect(decision.history.restartsAtMs).toEqual([]);
  });

  it.each<AppSeverity>(['clean', 'failed', 'crashed', 'killed'])(
    '%s with the budget exhausted → move-app',
    (severity) => {
      const decision = fault(severity, { history: afterRestarts(3, LATE_MS - 10_000), nowMs: LATE_MS });
      expect(decision).toMatchObject({ action: 'move-app', severityClass: 'severe', restartsLeft: 0 });
      expect(decision.reason).toContain('restart budget exhausted (3 restarts within 60 s)');
    },
  );

  it('moves on an operator request whatever the app reported', () => {
    const decision = decide({ isOperatorRequest: true, app: kvd, history: EMPTY_HISTORY, nowMs: 5 });
    expect(decision).toMatchObject({
      action: 'move-app',
      severityClass: 'severe',
      reason: 'the operator asked to move kvd to the standby',
    });
  });

  it('does not count an operator request against the budget', () => {
    const history = afterRestarts(1, LATE_MS - 1000);
    const decision = decide({
      isOperatorRequest: true,
      severity: 'failed',
      app: kvd,
      history,
      nowMs: LATE_MS,
    });
    expect(decision.history).toEqual(history);
  });
});

describe('decide: an ordinary app never moves (seed claim 8)', () => {
  it.each<AppSeverity>(['oom', 'hang'])(
    '%s with budget left → restart-in-place, still severe',
    (severity) => {
      const decision = fault(severity, { app: cron });
      expect(decision).toMatchObject({ action: 'restart-in-place', severityClass: 'severe' });
      expect(decision.reason).toContain('cron is not a hot-standby app and never moves to the standby');
    },
  );

  it('oom with the budget exhausted → none, left stopped', () => {
    const history = afterRestarts(3, LATE_MS - 10_000);
    const decision = fault('oom', { app: cron, history, nowMs: LATE_MS });
    expect(decision).toMatchObject({ action: 'none', severityClass: 'severe' });
    expect(decision.reason).toMatch(/restart budget exhausted .*: left stopped$/);
  });

  it('a crash with the budget exhausted → none, left stopped', () => {
    const history = afterRestarts(3, LATE_MS - 10_000);
    expect(fault('crashed', { app: cron, history, nowMs: LATE_MS })).toMatchObject({
      action: 'none',
      severityClass: 'severe',
    });
  });

  it('refuses an operator request to move it', () => {
    const decision = decide({ isOperatorRequest: true, app: cron, history: EMPTY_HISTORY, nowMs: 0 });
    expect(decision).toMatchObject({ action: 'none', severityClass: 'severe' });
    expect(decision.reason).toBe(
      "cron is not a hot-standby app and never moves to the standby: the operator's request to move it is refused",
    );
  });
});

describe('decide: other rows', () => {
  it('stopped (baton asked for it) → none, history unchanged', () => {
    const history = afterRestarts(1, LATE_MS - 1000);
    const decision = fault('stopped', { history });
    expect(decision).toMatchObject({ action: 'none', severityClass: 'mild' });
    expect(decision.history).toEqual(history);
  });

  it.each<VmFault>(['guest-panicked', 'guest-hang', 'qemu-exit', 'qmp-disconnect'])(
    '%s → whole-vm, fatal, for any app',
    (severity) => {
      for (const app of [kvd, cron]) {
        const decision = fault(severity, { app });
        expect(decision).toMatchObject({ action: 'whole-vm', severityClass: 'fatal' });
        expect(decision.reason).toMatch(/: whole-VM failover$/);
      }
    },
  );

  it('a VM fault wins over an operator request', () => {
    const decision = decide({
      isOperatorRequest: true,
      severity: 'guest-panicked',
      app: kvd,
      history: EMPTY_HISTORY,
      nowMs: 0,
    });
    expect(decision.action).toBe('whole-vm');
  });

  it('does not change the history it was given', () => {
    const history = afterRestarts(2, LATE_MS - 2000);
    const copy = structuredClone(history);
    fault('crashed', { history });
    expect(history).toEqual(copy);
  });
});

describe('decide: the budget window slides', () => {
  const budget = DEFAULT_RESTART_BUDGET;

  it('frees a restart once the oldest falls out of the window', () => {
    const history = afterRestarts(3, 100_000, 10_000); // restarts at 100 s, 110 s, 120 s
    const atEdge = fault('failed', { history, nowMs: 100_000 + budget.windowMs });
    expect(atEdge).toMatchObject({ action: 'restart-in-place', restartsLeft: 0 });
    expect(atEdge.history.restartsAtMs).toEqual([110_000, 120_000, 160_000]);
  });

  it('is still exhausted just before the oldest leaves the window', () => {
    const history = afterRestarts(3, 100_000, 10_000);
    expect(fault('failed', { history, nowMs: 100_000 + budget.windowMs - 1 }).action).toBe('move-app');
  });

  it('forgets every restart after a quiet window', () => {
    const history = afterRestarts(3, 100_000, 10_000);
    const decision = fault('failed', { history, nowMs: 500_000 });
    expect(decision).toMatchObject({ action: 'restart-in-place', restartsLeft: 2 });
    expect(decision.history.restartsAtMs).toEqual([500_000]);
  });

  it('honours a custom budget', () => {
    const decision = decide({
      severity: 'failed',
      app: kvd,
      history: afterRestarts(1, LATE_MS - 1000),
      nowMs: LATE_MS,
      budget: { maxRestarts: 1, windowMs: 5000 },
    });
    expect(decision.action).toBe('move-app');
    expect(decision.reason).toContain('restart budget exhausted (1 restarts within 5 s)');
  });
});

describe('decide: crash loops', () => {
  it('moves after two failures in a row, each within 10 s of a start, with budget left', () => {
    const first = fault('crashed', { history: startedHistory(1000), nowMs: 3000 });
    expect(first).toMatchObject({ action: 'restart-in-place', severityClass: 'mild' });
    expect(first.history.quickFailures).toBe(1);
    const second = fault('crashed', { history: first.history, nowMs: 5000 });
    expect(second).toMatchObject({ action: 'move-app', severityClass: 'severe', restartsLeft: 2 });
    expect(second.reason).toBe(
      'kvd crashed: crash loop (2 failures in a row, each within 10 s of its start): move it to the standby',
    );
  });

  it('a failure after a long run breaks the loop', () => {
    const quick = fault('crashed', { history: startedHistory(0), nowMs: 2000 });
    const slow = fault('crashed', { history: quick.history, nowMs: 2000 + 30_000 });
    expect(slow.action).toBe('restart-in-place');
    expect(slow.history.quickFailures).toBe(0);
    const quickAgain = fault('crashed', { history: slow.history, nowMs: 2000 + 30_000 + 500 });
    expect(quickAgain).toMatchObject({ action: 'restart-in-place', history: { quickFailures: 1 } });
  });

  it('a failure exactly at the minimum uptime is not quick', () => {
    const decision = fault('failed', { history: startedHistory(0), nowMs: 10_000 });
    expect(decision.history.quickFailures).toBe(0);
  });

  it('an app with no known start is never in a crash loop', () => {
    const first = fault('crashed', { history: EMPTY_HISTORY, nowMs: 1 });
    expect(first.history.quickFailures).toBe(0);
  });

  it('honours a custom rule', () => {
    const rule = { quickFailures: 3, minUptimeMs: 1000 };
    let history = startedHistory(0);
    const actions: string[] = [];
    for (const nowMs of [500, 1000, 1500]) {
      const decision = decide({ severity: 'killed', app: kvd, history, nowMs, crashLoop: rule });
      actions.push(decision.action);
      history = decision.history;
    }
    expect(actions).toEqual(['restart-in-place', 'restart-in-place', 'move-app']);
  });

  it('an ordinary app in a crash loop is left stopped', () => {
    const first = fault('crashed', { app: cron, history: startedHistory(0), nowMs: 100 });
    const second = fault('crashed', { app: cron, history: first.history, nowMs: 200 });
    expect(second).toMatchObject({ action: 'none', severityClass: 'severe' });
    expect(second.reason).toContain('crash loop');
  });
});
