import { describe, expect, it } from 'vitest';
import { executePlan } from '../../../src/failover/executor.js';
import { commitTable, stepName } from '../../../src/failover/plan.js';
import { planSwitchover } from '../../../src/failover/switchover-plan.js';
import { grantFromPool, startApp } from '../../../src/table/apps.js';
import { appAreaName, findArea, switchOver } from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';
import { rowsInMiB, stateB, stateC } from '../table/fixtures.js';
import { actions, fakeContext } from './fake-context.js';

const APPS = [
  { name: 'A', hasDisk: true },
  { name: 'B', hasDisk: false },
  { name: 'C', hasDisk: false },
];
/** Hot-standby A (128 MiB, with a disk) and C (32 MiB) on the active vm-a. */
const twoHot = () =>
  startApp(stateB(), { app: 'C', vm: 'vm-a', sizeBytes: 32 * MiB, hotStandby: true, slot: 'slot1' }).table;
const names = (steps: readonly { phase: string; app?: string }[]) =>
  steps.map((s) => (s.app === undefined ? s.phase : `${s.phase}:${s.app}`));

describe('planSwitchover: the plan as a value', () => {
  it('moves each hot-standby app like a single-app move, one commit, no fence', () => {
    const plan = planSwitchover(twoHot(), { apps: APPS });
    expect([plan.kind, plan.from, plan.to, plan.apps]).toEqual(['switchover', 'vm-a', 'vm-b', ['A', 'C']]);
    expect(names(plan.steps)).toEqual([
      'stop:A',
      'unplug:A',
      'disk-detach:A',
      'disk:A',
      'plug:A',
      'confirm:A',
      'start:A',
      'healthy:A',
      'stop:C',
      'unplug:C',
      'plug:C',
      'confirm:C',
      'start:C',
      'healthy:C',
      'commit',
    ]);
    expect(plan.steps.map((step) => stepName(plan, step))).toContain('stop:A');
    expect(plan.steps.some((step) => step.phase === 'fence')).toBe(false);
  });

  it('has the table after: both apps on vm-b falling back to vm-a, roles swapped, nothing to the pool', () => {
    const plan = planSwitchover(twoHot(), { apps: APPS });
    expect(rowsInMiB(plan.tableAfter)).toEqual([
      ['os:vm-a', 32, 'vm-a', 'vm-a'],
      ['os:vm-b', 32, 'vm-b', 'vm-b'],
      ['monitor', 32, 'monitor', 'monitor'],
      ['app:A', 128, 'vm-b', 'vm-a'],
      ['app:C', 32, 'vm-b', 'vm-a'],
      ['pool', 0, 'monitor', 'monitor'],
    ]);
    expect(plan.tableAfter.roles).toEqual({ active: 'vm-b', standby: 'vm-a' });
  });

  it('leaves the ordinary app out of the plan (it stays on vm-a) and names one app’s steps plainly', () => {
    const plan = planSwitchover(stateC(), { apps: APPS });
    expect(plan.apps).toEqual(['A']);
    expect(plan.steps.map((step) => stepName(plan, step))).toEqual([
      'stop',
      'unplug',
      'disk-detach',
      'disk',
      'plug',
      'confirm',
      'start',
      'healthy',
      'commit',
    ]);
    expect(findArea(plan.tableAfter, appAreaName('B'))?.user).toBe('vm-a');
  });

  it('commits on the table current at commit time (a grant meanwhile is kept), and only once', () => {
    const plan = planSwitchover(stateB(), { apps: APPS });
    const granted = grantFromPool(stateB(), { app: 'A', bytes: 16 * MiB }).table;
    const committed = commitTable(granted, plan);
    expect(findArea(committed, appAreaName('A'))).toMatchObject({ user: 'vm-b', sizeBytes: 144 * MiB });
    expect(committed.roles).toEqual({ active: 'vm-b', standby: 'vm-a' });
    expect(commitTable(committed, plan)).toBe(committed);
    expect(rowsInMiB(commitTable(stateB(), plan))).toEqual(rowsInMiB(switchOver(stateB()).table));
  });
});

describe('executePlan: a switchover', () => {
  it('runs every step journaled, commits the swap, records kind switchover with no fence phase', async () => {
    const fake = fakeContext(twoHot());
    const { outcome, record } = await executePlan(planSwitchover(twoHot(), { apps: APPS }), fake.ctx, {
      trigger: 'operator request (switchover)',
    });
    expect(outcome).toBe('succeeded');
    expect(record).toMatchObject({ kind: 'switchover', result: 'succeeded', fromVm: 'vm-a', toVm: 'vm-b' });
    expect(record.app).toBeUndefined();
    expect(record.phases.map((p) => p.name)).not.toContain('fence');
    expect(record.phases.map((p) => p.name)).toContain('healthy:C');
    expect(fake.calls).toContain('journal open switchover vm-a→vm-b');
    expect(fake.calls).toContain('commit switchover from vm-a');
    expect(fake.table.current.roles).toEqual({ active: 'vm-b', standby: 'vm-a' });
    expect(actions(fake).some((line) => line.startsWith('fence'))).toBe(false);
  });

  it('moves the apps already moved back when a later app fails to start: every undo in reverse, roles kept', async () => {
    const fake = fakeContext(twoHot());
    fake.failOn.set('start vm-b C', new Error('C would not start on vm-b'));
    const { outcome, record } = await executePlan(planSwitchover(twoHot(), { apps: APPS }), fake.ctx, {
      trigger: 'operator request (switchover)',
    });
    expect(outcome).toBe('rolled-back');
    expect(record).toMatchObject({
      kind: 'switchover',
      result: 'failed',
      error: 'C would not start on vm-b',
    });
    const calls = actions(fake);
    expect(calls.slice(calls.indexOf('start vm-b C'))).toEqual([
      'start vm-b C',
      'unplug vm-b C',
      'plug vm-a C 128',
      'confirm vm-a C',
      'start vm-a C',
      'healthy vm-a C',
      'serve C from vm-a',
      'hold A',
      'stop vm-b A',
      'unplug vm-b A',
      'detach-disk vm-b A',
      'attach-disk vm-a A again',
      'plug vm-a A 128',
      'confirm vm-a A',
      'start vm-a A',
      'healthy vm-a A',
      'serve A from vm-a',
    ]);
    expect(fake.blocked).toEqual([]);
    expect(fake.table.current).toEqual(twoHot());
  });

  it('blocks when an undo fails on the way back, with both reasons', async () => {
    const fake = fakeContext(twoHot());
    fake.failOn.set('start vm-b C', new Error('C would not start on vm-b'));
    fake.failOn.set('stop vm-b A', new Error('agent gone'));
    const { outcome } = await executePlan(planSwitchover(twoHot(), { apps: APPS }), fake.ctx, {
      trigger: 'operator request (switchover)',
    });
    expect(outcome).toBe('blocked');
    expect(fake.blocked[0]).toMatch(/C would not start on vm-b.*undoing start:A failed: agent gone/);
  });
});
