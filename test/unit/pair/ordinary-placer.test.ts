import { describe, expect, it } from 'vitest';
import { AgentError } from '../../../src/errors.js';
import { OrdinaryPlacer, type PlacerView } from '../../../src/pair/ordinary-placer.js';
import type { PairState } from '../../../src/pair/pair-state.js';
import { grantFromPool, type ResourceTable, returnToPool } from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';
import { fakePair, recordingLogger } from './fake-pair.js';

/** The placer's view of a fake pair whose ordinary app cron runs nowhere (its area back in the pool). */
async function placerView() {
  const { pair, active } = await fakePair();
  const { log, lines } = recordingLogger();
  const view = {
    log,
    config: pair.config,
    state: 'protected' as PairState,
    roles: pair.roles,
    activeVm: active.vm as PlacerView['activeVm'],
    table: returnToPool(pair.table, { app: 'cron' }).table as ResourceTable,
    endpoints: pair.endpoints,
  };
  return { view, active, lines };
}

/** Actions that record each call; `onStart` decides how a start ends. */
function recordedActions(onStart: (app: string, attempt: number) => Promise<void> = async () => undefined) {
  const calls: string[] = [];
  let attempt = 0;
  return {
    calls,
    actions: {
      startOnActive: (app: string) => {
        calls.push(`start ${app}`);
        attempt += 1;
        return onStart(app, attempt);
      },
      stopOnActive: async (app: string) => {
        calls.push(`stop ${app}`);
      },
    },
  };
}

/** Lets the placer's setImmediate and its run's promise callbacks happen. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

describe('OrdinaryPlacer', () => {
  it.each<[PairState, string[]]>([
    ['protected', ['start cron']],
    ['unprotected', ['start cron']],
    ['failing-over', []],
    ['blocked', []],
    ['starting', []],
    ['stopped', []],
  ])(
    'starts on the active only the ordinary app that runs nowhere, never a hot-standby app: while %s, %o',
    async (state, expected) => {
      const { view } = await placerView();
      view.state = state;
      const { calls, actions } = recordedActions();
      const placer = new OrdinaryPlacer(view, actions);
      placer.schedule();
      await settle();
      expect(calls).toEqual(expected);
      expect(placer.waitingReasons.size).toBe(0);
    },
  );

  it('leaves an app alone that the table gives an area already', async () => {
    const { pair } = await fakePair(); // cron has its area on vm-a.
    const { view } = await placerView();
    const { calls, actions } = recordedActions();
    new OrdinaryPlacer({ ...view, table: pair.table }, actions).schedule();
    await settle();
    expect(calls).toEqual([]);
  });

  it('keeps an app waiting with the pool numbers when the pool cannot grant its size', async () => {
    const { view, lines } = await placerView();
    view.table = grantFromPool(view.table, { app: 'kvd', bytes: 368 * MiB }).table; // 16 MiB left.
    const { calls, actions } = recordedActions();
    const placer = new OrdinaryPlacer(view, actions);
    placer.schedule();
    await expect.poll(() => placer.waitingReasons.get('cron')).toBe('pool has 16 MiB, needs 32 MiB');
    expect(calls).toEqual([]);
    expect(lines.find((l) => l.msg === 'ordinary app waits for the pool')).toMatchObject({ app: 'cron' });
  });

  it('starts a waiting app once the pool has grown, and forgets why it waited', async () => {
    const { view } = await placerView();
    const full = view.table;
    view.table = grantFromPool(full, { app: 'kvd', bytes: 368 * MiB }).table;
    const { calls, actions } = recordedActions();
    const placer = new OrdinaryPlacer(view, actions);
    placer.schedule();
    await expect.poll(() => placer.waitingReasons.has('cron')).toBe(true);
    view.table = full;
    placer.schedule();
    await expect.poll(() => calls).toEqual(['start cron']);
    expect(placer.waitingReasons.has('cron')).toBe(false);
  });

  it('starts nothing when the active VM is gone or its QEMU exited', async () => {
    const { view, active } = await placerView();
    const { calls, actions } = recordedActions();
    new OrdinaryPlacer({ ...view, activeVm: undefined }, actions).schedule();
    active.exit();
    new OrdinaryPlacer(view, actions).schedule();
    await settle();
    expect(calls).toEqual([]);
  });

  it('stops and starts again an app the agent already runs unrecorded (a killed daemon started it)', async () => {
    const { view } = await placerView();
    const { calls, actions } = recordedActions(async (app, attempt) => {
      if (attempt === 1)
        throw new AgentError({ vm: 'vm-a', agentCode: 'already-running', message: `${app} runs already` });
    });
    const placer = new OrdinaryPlacer(view, actions);
    placer.schedule();
    await expect.poll(() => calls).toEqual(['start cron', 'stop cron', 'start cron']);
    expect(placer.waitingReasons.size).toBe(0);
  });

  it('records why an app did not start when its start fails', async () => {
    const { view } = await placerView();
    const { calls, actions } = recordedActions(async () => {
      throw new AgentError({ vm: 'vm-a', agentCode: 'exec-failed', message: '/apps/kvd: not found' });
    });
    const placer = new OrdinaryPlacer(view, actions);
    placer.schedule();
    await expect.poll(() => placer.waitingReasons.get('cron')).toMatch(/^starting it on vm-a failed: /);
    expect(placer.waitingReasons.get('cron')).toContain('/apps/kvd: not found');
    expect(calls).toEqual(['start cron']);
  });

  it('runs once more after a run that was asked for again while it placed, never two at once', async () => {
    const { view } = await placerView();
    let running = 0;
    let mostAtOnce = 0;
    let release: () => void = () => undefined;
    const { calls, actions } = recordedActions(async (_app, attempt) => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      if (attempt === 1) await new Promise<void>((resolve) => (release = resolve));
      running -= 1;
    });
    const placer = new OrdinaryPlacer(view, actions);
    placer.schedule();
    await expect.poll(() => calls).toEqual(['start cron']);
    placer.schedule();
    placer.schedule();
    await settle();
    expect(calls).toEqual(['start cron']);
    release();
    await expect.poll(() => calls).toEqual(['start cron', 'start cron']);
    await settle();
    expect(calls).toHaveLength(2);
    expect(mostAtOnce).toBe(1);
  });

  it('logs a run that fails as a whole and places again on the next schedule', async () => {
    const { view, lines } = await placerView();
    const { calls, actions } = recordedActions();
    const broken = {
      ...view,
      get table(): ResourceTable {
        throw new Error('table unreadable');
      },
    };
    const placer = new OrdinaryPlacer(broken, actions);
    placer.schedule();
    await expect
      .poll(() => lines.find((l) => l.msg === 'placing ordinary apps failed'))
      .toMatchObject({
        err: 'table unreadable',
      });
    expect(calls).toEqual([]);
  });
});
