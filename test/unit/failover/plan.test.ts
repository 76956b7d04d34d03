import { describe, expect, it } from 'vitest';
import { commitTable, planAppMove, planResume, planWholeVm, stepName } from '../../../src/failover/plan.js';
import { beginPhase, createOperation, endPhase } from '../../../src/state/operations.js';
import type { InFlightOperation, OperationPhase } from '../../../src/state/types.js';
import { grantFromPool } from '../../../src/table/apps.js';
import { moveApp } from '../../../src/table/move.js';
import { MiB } from '../../../src/units.js';
import { refusalOf, rowsInMiB, stateB, stateC } from '../table/fixtures.js';

const APPS = [
  { name: 'A', hasDisk: true },
  { name: 'B', hasDisk: false },
];
const names = (steps: readonly { phase: string; app?: string }[]) =>
  steps.map((s) => (s.app === undefined ? s.phase : `${s.phase}:${s.app}`));

describe('planWholeVm: the active fails in state C (seed figure 5)', () => {
  const plan = planWholeVm(stateC(), { failedVm: 'vm-a', apps: APPS });

  it('fences vm-a, places only the hot-standby app A (with its disk) on vm-b, commits', () => {
    expect([plan.kind, plan.from, plan.to, plan.apps]).toEqual(['whole-vm', 'vm-a', 'vm-b', ['A']]);
    expect(names(plan.steps)).toEqual([
      'fence',
      'disk:A',
      'plug:A',
      'confirm:A',
      'start:A',
      'healthy:A',
      'commit',
    ]);
  });

  it('has the figure-5 table after: A on vm-b, B back in the pool, roles swapped, vm-a shrunk', () => {
    expect(rowsInMiB(plan.tableAfter)).toEqual([
      ['os:vm-a', 32, 'vm-a', 'vm-a'],
      ['os:vm-b', 32, 'vm-b', 'vm-b'],
      ['monitor', 32, 'monitor', 'monitor'],
      ['app:A', 128, 'vm-b', 'vm-a'],
      ['pool', 32, 'monitor', 'monitor'],
    ]);
    expect(plan.tableAfter.roles).toEqual({ active: 'vm-b', standby: 'vm-a' });
  });

  it('names steps without the app when one app moves', () => {
    expect(plan.steps.map((step) => stepName(plan, step))).toEqual([
      'fence',
      'disk',
      'plug',
      'confirm',
      'start',
      'healthy',
      'commit',
    ]);
  });

  it('fails a standby that runs a moved app back to the active, roles unchanged', () => {
    const moved = moveApp(stateB(), { app: 'A', toVm: 'vm-b' }).table;
    const back = planWholeVm(moved, { failedVm: 'vm-b', apps: APPS });
    expect([back.from, back.to, back.apps]).toEqual(['vm-b', 'vm-a', ['A']]);
    expect(back.tableAfter.roles).toEqual({ active: 'vm-a', standby: 'vm-b' });
    expect(rowsInMiB(back.tableAfter).find((row) => row[0] === 'app:A')).toEqual([
      'app:A',
      128,
      'vm-a',
      'vm-b',
    ]);
  });

  it('refuses an empty standby: it has nothing to hand over', () => {
    expect(refusalOf(() => planWholeVm(stateC(), { failedVm: 'vm-b', apps: APPS })).message).toMatch(
      /Cannot fail over from vm-b: it is the standby and holds no app/,
    );
  });
});

describe('planAppMove (seed figure 6), both directions', () => {
  it('moves A to the standby: release on vm-a, place on vm-b, commit', () => {
    const plan = planAppMove(stateC(), { app: APPS[0] as never, toVm: 'vm-b' });
    expect([plan.kind, plan.from, plan.to, plan.apps]).toEqual(['app', 'vm-a', 'vm-b', ['A']]);
    expect(names(plan.steps)).toEqual([
      'stop:A',
      'unplug:A',
      'disk-detach:A',
      'disk:A',
      'plug:A',
      'confirm:A',
      'start:A',
      'healthy:A',
      'commit',
    ]);
    expect(rowsInMiB(plan.tableAfter).find((row) => row[0] === 'app:A')).toEqual([
      'app:A',
      128,
      'vm-b',
      'vm-a',
    ]);
    expect(plan.tableAfter.roles).toEqual({ active: 'vm-a', standby: 'vm-b' });
  });

  it('moves A back from the standby to the active, with the same steps', () => {
    const moved = moveApp(stateC(), { app: 'A', toVm: 'vm-b' }).table;
    const plan = planAppMove(moved, { app: { name: 'A', hasDisk: false }, toVm: 'vm-a' });
    expect([plan.from, plan.to]).toEqual(['vm-b', 'vm-a']);
    expect(names(plan.steps)).toEqual([
      'stop:A',
      'unplug:A',
      'plug:A',
      'confirm:A',
      'start:A',
      'healthy:A',
      'commit',
    ]);
    expect(rowsInMiB(plan.tableAfter).find((row) => row[0] === 'app:A')).toEqual([
      'app:A',
      128,
      'vm-a',
      'vm-b',
    ]);
  });

  it('refuses an ordinary app to the standby, as the table does', () => {
    expect(refusalOf(() => planAppMove(stateC(), { app: APPS[1] as never, toVm: 'vm-b' })).message).toBe(
      'Cannot move B to vm-b: B is not a hot-standby app, only those move to the standby',
    );
  });
});

/** An operation of `kind` whose phases before `phase` completed and `phase` has only its intent. */
function interrupted(kind: 'whole-vm' | 'app', phase: OperationPhase, state: 'intent' | 'done' = 'intent') {
  const at = '2025-01-01T00:00:00.000Z';
  let op: InFlightOperation = createOperation({
    id: 'op-1',
    kind,
    ...(kind === 'app' ? { app: 'A' } : { apps: ['A'] }),
    fromVm: 'vm-a',
    toVm: 'vm-b',
    trigger: 'test',
    startedAt: at,
  });
  const order: OperationPhase[] =
    kind === 'app'
      ? ['stop', 'unplug', 'disk-detach', 'disk', 'plug', 'confirm', 'start', 'healthy', 'commit']
      : ['fence', 'disk', 'plug', 'confirm', 'start', 'healthy', 'commit'];
  for (const done of order.slice(0, order.indexOf(phase)))
    op = endPhase(beginPhase(op, done, at), done, 'ok', at);
  op = beginPhase(op, phase, at);
  return state === 'done' ? endPhase(op, phase, 'ok', at) : op;
}

describe('planResume', () => {
  it('finishes a whole-VM failover from its interrupted plug: fence and disk only re-checked', () => {
    const plan = planResume(stateC(), interrupted('whole-vm', 'plug'), APPS);
    expect(plan.resume).toMatchObject({ action: 'finish', resumeAt: 2 });
    expect(plan.steps[2]).toEqual({ phase: 'plug', app: 'A' });
    expect(plan.tableAfter.roles).toEqual({ active: 'vm-b', standby: 'vm-a' });
  });

  it('resumes after a done fence at the first planned step, skipping a disk phase the app does not have', () => {
    const plan = planResume(stateC(), interrupted('whole-vm', 'fence', 'done'), [
      { name: 'A', hasDisk: false },
    ]);
    expect(names(plan.steps).slice(0, 2)).toEqual(['fence', 'plug:A']);
    expect(plan.resume?.resumeAt).toBe(1);
  });

  it('rolls back an app move interrupted at its stop: nothing runs forward', () => {
    const plan = planResume(stateC(), interrupted('app', 'stop'), APPS);
    expect(plan.resume).toMatchObject({ action: 'roll-back', resumeAt: plan.steps.length });
  });

  it('finishes an app move from its unplug: the stop is re-checked', () => {
    const plan = planResume(stateC(), interrupted('app', 'unplug'), APPS);
    expect(plan.resume).toMatchObject({ action: 'finish', resumeAt: 1 });
    expect(rowsInMiB(plan.tableAfter).find((row) => row[0] === 'app:A')).toEqual([
      'app:A',
      128,
      'vm-b',
      'vm-a',
    ]);
  });

  it('only closes a failover whose commit is done; its table is not moved twice', () => {
    const committed = planWholeVm(stateC(), { failedVm: 'vm-a', apps: APPS }).tableAfter;
    const plan = planResume(committed, interrupted('whole-vm', 'commit', 'done'), APPS);
    expect(plan.resume?.resumeAt).toBe(plan.steps.length);
    expect(plan.tableAfter).toBe(committed);
  });
});

describe('commitTable', () => {
  it('applies the move to the table current at commit, keeping a grant made meanwhile', () => {
    const plan = planAppMove(stateB(), { app: APPS[0] as never, toVm: 'vm-b' });
    const granted = grantFromPool(stateB(), { app: 'A', bytes: 32 * MiB }).table;
    const after = commitTable(granted, plan, new Map([['A', 160 * MiB]]), 5);
    expect(after.areas.find((a) => a.name === 'app:A')).toMatchObject({
      user: 'vm-b',
      sizeBytes: 160 * MiB,
      pluggedBytes: 160 * MiB,
    });
    expect(rowsInMiB(plan.tableAfter).find((row) => row[0] === 'app:A')).toEqual([
      'app:A',
      128,
      'vm-b',
      'vm-a',
    ]);
  });
});
