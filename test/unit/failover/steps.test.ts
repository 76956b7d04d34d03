import { describe, expect, it } from 'vitest';
import { planAppMove } from '../../../src/failover/plan.js';
import { STEPS, type StepCall } from '../../../src/failover/steps.js';
import { OPERATION_PHASES } from '../../../src/state/phases.js';
import { stateC } from '../table/fixtures.js';
import { actions, fakeContext } from './fake-context.js';

/** A call of a move of A from vm-a to vm-b, on a fresh fake context. */
function callOf() {
  const fake = fakeContext(stateC());
  const plan = planAppMove(stateC(), { app: { name: 'A', hasDisk: true }, toVm: 'vm-b' });
  const call: StepCall = { ctx: fake.ctx, plan, app: 'A', pluggedBytes: new Map() };
  return { fake, call };
}

describe('STEPS', () => {
  it('has one entry per phase', () => {
    expect(Object.keys(STEPS).sort()).toEqual([...OPERATION_PHASES].sort());
  });

  it('acts on the VM the app leaves for the release steps and on the target for the place steps', async () => {
    const { fake, call } = callOf();
    for (const phase of [
      'stop',
      'unplug',
      'disk-detach',
      'disk',
      'plug',
      'confirm',
      'start',
      'healthy',
    ] as const)
      await STEPS[phase].run(call);
    expect(actions(fake)).toEqual([
      'stop vm-a A',
      'unplug vm-a A',
      'detach-disk vm-a A',
      'attach-disk vm-b A',
      'plug vm-b A 128',
      'confirm vm-b A',
      'start vm-b A',
      'healthy vm-b A',
      'serve A from vm-b',
    ]);
    expect(call.pluggedBytes.get('A')).toBe(128 * 2 ** 20);
  });

  it('undoes each step that changes something, and only those', async () => {
    const { fake, call } = callOf();
    const undoable = OPERATION_PHASES.filter((phase) => STEPS[phase].undo !== undefined);
    expect(undoable).toEqual(['stop', 'unplug', 'disk-detach', 'disk', 'plug', 'start', 'healthy']);
    for (const phase of [...undoable].reverse()) await STEPS[phase].undo?.(call);
    expect(actions(fake)).toEqual([
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
  });

  it('re-checks by asking first: a stopped app is not stopped again, a running one not started again', async () => {
    const { fake, call } = callOf();
    await STEPS.stop.recheck?.(call);
    fake.running.add('vm-b/A');
    await STEPS.start.recheck?.(call);
    expect(actions(fake)).toEqual([]);
    fake.running.add('vm-a/A');
    fake.running.delete('vm-b/A');
    await STEPS.stop.recheck?.(call);
    await STEPS.start.recheck?.(call);
    expect(actions(fake)).toEqual(['stop vm-a A', 'start vm-b A']);
  });
});
