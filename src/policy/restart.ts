// Failure policy (DESIGN.md section 5, seed paragraph 0045): restart in place, move the app, or fail over the VM.

/** How an app ended, as the guest agent reports it in `app.exited` (docs/agent-protocol.md, v2). */
export type AppSeverity = 'clean' | 'failed' | 'crashed' | 'oom' | 'hang' | 'stopped' | 'killed';

/**
 * A fault of the VM itself, from the host's detectors: the guest panicked (pvpanic, also after a
 * kernel lockup), a guest hang confirmed by two independent signals (never one missed heartbeat),
 * the QEMU process exited, or its QMP connection closed.
 */
export type VmFault = 'guest-panicked' | 'guest-hang' | 'qemu-exit' | 'qmp-disconnect';

export type FaultSeverity = AppSeverity | VmFault;
export type SeverityClass = 'mild' | 'severe' | 'fatal';
export type PolicyAction = 'restart-in-place' | 'move-app' | 'whole-vm' | 'none';

/** At most `maxRestarts` restarts in place within any `windowMs`; beyond that the fault is severe. */
export interface RestartBudget {
  maxRestarts: number;
  windowMs: number;
}

/** `quickFailures` failures in a row, each within `minUptimeMs` of the app's start, are a crash loop. */
export interface CrashLoopRule {
  quickFailures: number;
  minUptimeMs: number;
}

export const DEFAULT_RESTART_BUDGET: RestartBudget = { maxRestarts: 3, windowMs: 60_000 };
export const DEFAULT_CRASH_LOOP_RULE: CrashLoopRule = { quickFailures: 2, minUptimeMs: 10_000 };

/** One app's failure history: an immutable value the caller keeps and passes back to `decide`. */
export interface AppHistory {
  /** When each restart in place was decided, oldest first; only those inside the budget window are kept. */
  readonly restartsAtMs: readonly number[];
  /** When the app's current run started; unknown before the first `startedHistory`. */
  readonly startedAtMs?: number;
  /** Failures in a row that came within the crash-loop rule's `minUptimeMs` of a start. */
  readonly quickFailures: number;
}

export interface AppIdentity {
  name: string;
  /** Only a hot-standby app may move to the standby (seed claim 8). */
  hotStandby: boolean;
}

interface DecisionContext {
  app: AppIdentity;
  history: AppHistory;
  /** The caller's clock (monotonic ms); the policy never reads one. */
  nowMs: number;
  budget?: RestartBudget;
  crashLoop?: CrashLoopRule;
}

/** A detector's or the agent's report, or an operator's request to move the app (`baton failover --app`). */
export type DecisionInput = DecisionContext &
  (
    | { severity: FaultSeverity; isOperatorRequest?: false }
    | { isOperatorRequest: true; severity?: FaultSeverity }
  );

export interface Decision {
  action: PolicyAction;
  severityClass: SeverityClass;
  reason: string;
  /** The history after this decision: the failure counted, and the restart when the action is one. */
  history: AppHistory;
  /** Restarts in place still allowed in the current window after this decision. */
  restartsLeft: number;
}

/** The history of an app that has never failed and has no known start. */
export const EMPTY_HISTORY: AppHistory = Object.freeze({ restartsAtMs: Object.freeze([]), quickFailures: 0 });

/** The history of an app that (re)started at `nowMs` in a fresh place: after its first start or a move. */
export function startedHistory(nowMs: number): AppHistory {
  return { restartsAtMs: [], startedAtMs: nowMs, quickFailures: 0 };
}

const VM_FAULT_TEXT: Record<VmFault, string> = {
  'guest-panicked': 'the guest panicked',
  'guest-hang': 'the guest hung (confirmed by a second signal)',
  'qemu-exit': 'the QEMU process exited',
  'qmp-disconnect': 'the QMP connection closed',
};

const APP_FAULT_TEXT: Record<Exclude<AppSeverity, 'stopped'>, string> = {
  clean: 'exited with code 0',
  failed: 'exited with a non-zero code',
  crashed: 'crashed',
  killed: 'was killed by a signal',
  oom: 'was killed for running out of memory',
  hang: 'hung (its health check failed)',
};

/**
 * What to do about one fault of one app. The table of outcomes, first matching row wins:
 *
 * | fault                                         | class  | hot-standby app  | ordinary app     |
 * |-----------------------------------------------|--------|------------------|------------------|
 * | VM fault (panic, confirmed hang, QEMU death)  | fatal  | whole-vm         | whole-vm         |
 * | operator request                              | severe | move-app         | none (refused)   |
 * | `stopped` (baton asked for it)                | mild   | none             | none             |
 * | `oom`, `hang`, budget left                    | severe | move-app         | restart-in-place |
 * | `oom`, `hang`, budget exhausted               | severe | move-app         | none             |
 * | `clean` `failed` `crashed` `killed`, crash loop | severe | move-app       | none             |
 * | `clean` `failed` `crashed` `killed`, budget exhausted | severe | move-app | none             |
 * | `clean` `failed` `crashed` `killed`, budget left | mild | restart-in-place | restart-in-place |
 *
 * `oom` and `hang` are severe at once: a restart in place meets the same memory limit or the same
 * stuck dependency, and the seed's answer to a fault hard to recover in place is the standby.
 * An ordinary app never moves (seed claim 8): when it would, it restarts in place while the
 * budget allows, and is otherwise left stopped for the operator. The budget counts restarts in
 * place within a sliding window; a crash loop (`quickFailures` failures in a row, each within
 * `minUptimeMs` of a start) is severe even with budget left. A clean exit of a service nobody
 * asked to stop counts as a failure.
 */
export function decide(input: DecisionInput): Decision {
  const budget = input.budget ?? DEFAULT_RESTART_BUDGET;
  const rule = input.crashLoop ?? DEFAULT_CRASH_LOOP_RULE;
  const { app, nowMs } = input;
  const restartsAtMs = input.history.restartsAtMs.filter((atMs) => atMs > nowMs - budget.windowMs);
  const kept: AppHistory = { ...input.history, restartsAtMs };
  const restartsLeft = Math.max(0, budget.maxRestarts - restartsAtMs.length);
  const decision = (
    action: PolicyAction,
    severityClass: SeverityClass,
    reason: string,
    history: AppHistory = kept,
  ): Decision => ({
    action,
    severityClass,
    reason,
    history,
    restartsLeft: action === 'restart-in-place' ? restartsLeft - 1 : restartsLeft,
  });
  const { severity } = input;

  if (severity !== undefined && isVmFault(severity)) {
    return decision('whole-vm', 'fatal', `${VM_FAULT_TEXT[severity]}: whole-VM failover`);
  }
  if (input.isOperatorRequest === true) {
    return app.hotStandby
      ? decision('move-app', 'severe', `the operator asked to move ${app.name} to the standby`)
      : decision('none', 'severe', `${notHotStandby(app)}: the operator's request to move it is refused`);
  }
  if (severity === undefined || severity === 'stopped') {
    return decision('none', 'mild', `${app.name} was stopped on request: nothing to do`);
  }

  const what = `${app.name} ${APP_FAULT_TEXT[severity]}`;
  const uptimeMs = kept.startedAtMs === undefined ? undefined : nowMs - kept.startedAtMs;
  const isQuick = uptimeMs !== undefined && uptimeMs < rule.minUptimeMs;
  const failed: AppHistory = { ...kept, quickFailures: isQuick ? kept.quickFailures + 1 : 0 };
  const restarted: AppHistory = {
    restartsAtMs: [...restartsAtMs, nowMs],
    startedAtMs: nowMs,
    quickFailures: failed.quickFailures,
  };
  const window = `${budget.maxRestarts} restarts within ${formatSeconds(budget.windowMs)}`;
  const restartInPlace = (severityClass: SeverityClass, why: string) =>
    decision(
      'restart-in-place',
      severityClass,
      `${why}: restart ${restartsAtMs.length + 1} of ${window}`,
      restarted,
    );
  const moveOrGiveUp = (why: string): Decision =>
    app.hotStandby
      ? decision('move-app', 'severe', `${why}: move it to the standby`, failed)
      : decision('none', 'severe', `${why}; ${notHotStandby(app)}: left stopped`, failed);

  if (severity === 'oom' || severity === 'hang') {
    if (app.hotStandby || restartsLeft === 0) {
      return moveOrGiveUp(restartsLeft === 0 ? `${what}, restart budget exhausted (${window})` : what);
    }
    return restartInPlace('severe', `${what}; ${notHotStandby(app)}`);
  }
  if (failed.quickFailures >= rule.quickFailures) {
    return moveOrGiveUp(
      `${what}: crash loop (${failed.quickFailures} failures in a row, each within ${formatSeconds(rule.minUptimeMs)} of its start)`,
    );
  }
  if (restartsLeft === 0) return moveOrGiveUp(`${what}: restart budget exhausted (${window})`);
  return restartInPlace('mild', what);
}

function isVmFault(severity: FaultSeverity): severity is VmFault {
  return Object.hasOwn(VM_FAULT_TEXT, severity);
}

function notHotStandby(app: AppIdentity): string {
  return `${app.name} is not a hot-standby app and never moves to the standby`;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
