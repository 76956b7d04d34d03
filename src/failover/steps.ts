// The step implementations: one entry per phase, each with its run, its undo (armed once the run succeeded) and its resume re-check.
import type { OperationPhase, UndoablePhase } from '../state/phases.js';
import type { FailoverContext } from './context.js';
import { commitTable, type Plan } from './plan.js';

/** What a step acts on: the plan, its app (for per-app phases) and what earlier steps observed. */
export interface StepCall {
  readonly ctx: FailoverContext;
  readonly plan: Plan;
  readonly app: string;
  /** The size each app's slot was plugged to on the target, as QEMU reported it. */
  readonly pluggedBytes: Map<string, number>;
}

export interface StepImpl {
  run(call: StepCall): Promise<void>;
  /** Puts back what `run` changed, so the table (not yet committed) matches QEMU again. */
  undo?(call: StepCall): Promise<void>;
  /** A resumed operation runs this instead of `run`: it asks before it acts, so doing it twice changes nothing. */
  recheck?(call: StepCall): Promise<void>;
  /**
   * A resumed roll-back runs this instead of `undo` (the undo may have acted before the crash).
   * Without it, `undo` is safe to run twice: unplug, detach, stop and hold change nothing the second time.
   */
  recheckUndo?(call: StepCall): Promise<void>;
}

/** A phase's implementation: with an undo exactly when the phase is in UNDOABLE_PHASES. */
type StepTable = {
  readonly [P in OperationPhase]: P extends UndoablePhase
    ? StepImpl & { undo(call: StepCall): Promise<void> }
    : Omit<StepImpl, 'undo' | 'recheckUndo'>;
};

/**
 * Every phase, checked complete by the compiler. Release steps act on the VM the app leaves
 * (`plan.from`), place steps on the target (`plan.to`). The fence, confirm and healthy change
 * nothing a later failure must put back; the commit is the last step, so it has no undo.
 */
export const STEPS: Readonly<Record<OperationPhase, StepImpl>> = {
  fence: {
    run: ({ ctx, plan }) => ctx.fence(plan.from),
  },
  stop: {
    run: ({ ctx, plan, app }) => ctx.stopApp(plan.from, app),
    recheck: async ({ ctx, plan, app }) => {
      if (await ctx.isAppRunning(plan.from, app)) await ctx.stopApp(plan.from, app);
    },
    undo: async ({ ctx, plan, app }) => {
      await ctx.startApp(plan.from, app, ctx.sizeOf(app));
      await ctx.waitHealthy(plan.from, app);
      ctx.serveFrom(app, plan.from);
    },
    recheckUndo: async ({ ctx, plan, app }) => {
      if (!(await ctx.isAppRunning(plan.from, app))) await ctx.startApp(plan.from, app, ctx.sizeOf(app));
      await ctx.waitHealthy(plan.from, app);
      ctx.serveFrom(app, plan.from);
    },
  },
  unplug: {
    run: ({ ctx, plan, app }) => ctx.unplug(plan.from, app),
    undo: async ({ ctx, plan, app }) => {
      const sizeBytes = ctx.sizeOf(app);
      await ctx.plug(plan.from, app, sizeBytes);
      await ctx.confirm(plan.from, app, sizeBytes);
    },
  },
  'disk-detach': {
    run: ({ ctx, plan, app }) => ctx.detachDisk(plan.from, app),
    undo: ({ ctx, plan, app }) => ctx.attachDisk(plan.from, app, true),
  },
  disk: {
    run: ({ ctx, plan, app }) => ctx.attachDisk(plan.to, app, false),
    recheck: ({ ctx, plan, app }) => ctx.attachDisk(plan.to, app, true),
    undo: ({ ctx, plan, app }) => ctx.detachDisk(plan.to, app),
  },
  plug: {
    run: async ({ ctx, plan, app, pluggedBytes }) => {
      pluggedBytes.set(app, await ctx.plug(plan.to, app, ctx.sizeOf(app)));
    },
    undo: ({ ctx, plan, app }) => ctx.unplug(plan.to, app),
  },
  confirm: {
    run: ({ ctx, plan, app }) => ctx.confirm(plan.to, app, ctx.sizeOf(app)),
  },
  start: {
    run: ({ ctx, plan, app }) => ctx.startApp(plan.to, app, ctx.sizeOf(app)),
    recheck: async ({ ctx, plan, app }) => {
      if (await ctx.isAppRunning(plan.to, app)) {
        ctx.log.warn({ app, vm: plan.to }, `${app} already runs on ${plan.to}: not started again`);
        return;
      }
      await ctx.startApp(plan.to, app, ctx.sizeOf(app));
    },
    undo: ({ ctx, plan, app }) => ctx.stopApp(plan.to, app),
  },
  healthy: {
    run: async ({ ctx, plan, app }) => {
      await ctx.waitHealthy(plan.to, app);
      ctx.serveFrom(app, plan.to);
    },
    undo: async ({ ctx, app }) => ctx.hold(app),
  },
  commit: {
    run: async ({ ctx, plan, pluggedBytes }) =>
      ctx.commit(plan.kind, plan.from, (table) => commitTable(table, plan, pluggedBytes, performance.now())),
  },
} satisfies StepTable;
