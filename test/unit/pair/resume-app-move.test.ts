import { beforeEach, describe, expect, it } from 'vitest';
import { resumeAppMove } from '../../../src/pair/resume-app-move.js';
import { createSupervision } from '../../../src/pair/supervise.js';
import type { InFlightOperation, OperationPhase } from '../../../src/state/index.js';
import { beginPhase, createOperation, endPhase } from '../../../src/state/operations.js';
import { APP_MOVE_PHASES } from '../../../src/state/phases.js';
import { appAreaName, findArea } from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';
import { type FakePair, type FakeVm, fakePair } from './fake-pair.js';

const AT = '2026-01-01T00:00:00.000Z';
let f: FakePair;

/** What each VM's agent reports running (`app.list`), settable per test. */
function answerAppList(vm: FakeVm, running: string[]): void {
  Object.assign(vm.vm.machine.agent, {
    request: async (type: string) => {
      vm.calls.push(`agent ${type}`);
      return { apps: running.map((name) => ({ name, pid: 9, running: true })) };
    },
  });
}

/** A move of kvd from vm-a to vm-b whose phases up to `phase` completed, and `phase` only has its intent written. */
function interruptedAt(phase: OperationPhase): InFlightOperation {
  const order: readonly OperationPhase[] = APP_MOVE_PHASES;
  let op = createOperation({
    id: 'move-1',
    kind: 'app',
    app: 'kvd',
    fromVm: 'vm-a',
    toVm: 'vm-b',
    trigger: 'operator request',
    startedAt: AT,
  });
  for (const done of order.slice(0, order.indexOf(phase)))
    op = endPhase(beginPhase(op, done, AT), done, 'ok', AT);
  return beginPhase(op, phase, AT);
}

beforeEach(async () => {
  f = await fakePair();
  Object.assign(f.pair, { supervision: createSupervision() });
  answerAppList(f.active, []);
  answerAppList(f.standby, []);
});

describe('resumeAppMove', () => {
  it('rolls a move interrupted at its stop back: the target is only asked, kvd keeps its area on vm-a', async () => {
    answerAppList(f.active, ['kvd']);
    const before = f.pair.table;
    expect(await resumeAppMove(f.pair, interruptedAt('stop'), () => undefined)).toBe('rolled-back');
    expect(f.standby.calls).toEqual(['agent app.list']);
    expect(f.active.calls).toEqual([]);
    expect(f.mechanism.calls).toEqual([]);
    expect(f.pair.table).toBe(before);
    expect(f.pair.history).toEqual([
      expect.objectContaining({ id: 'move-1', kind: 'app', result: 'failed', toVm: 'vm-b' }),
    ]);
    expect(f.pair.history[0]?.error).toMatch(/rolled back: kvd stays on vm-a/);
  });

  it('finishes a move interrupted at its plug: source re-checked, unplug and detach again, then placed on vm-b', async () => {
    expect(await resumeAppMove(f.pair, interruptedAt('plug'), () => undefined)).toBe('finished');
    expect(f.active.calls).toEqual([
      'agent app.list',
      'qmp device_del id=blk-kvd',
      'qmp blockdev-del node-name=disk-kvd',
    ]);
    expect(f.mechanism.calls).toEqual(['unplug vm-a slot0', 'plug vm-b slot0 128 MiB']);
    expect(f.standby.calls).toEqual([
      'agent app.list',
      'qmp query-pci',
      'qmp query-pci',
      'qmp blockdev-add node-name=disk-kvd',
      'qmp device_add id=blk-kvd bus=rp-spare1',
      'agent app.start kvd with disk',
    ]);
    expect(findArea(f.pair.table, appAreaName('kvd'))).toMatchObject({
      user: 'vm-b',
      pluggedBytes: 128 * MiB,
    });
    expect(f.pair.history.at(-1)).toMatchObject({ id: 'move-1', result: 'succeeded' });
  });

  it('stops kvd again when the source still runs it, before its memory is unplugged', async () => {
    answerAppList(f.active, ['kvd']);
    await resumeAppMove(f.pair, interruptedAt('unplug'), () => undefined);
    expect(f.active.calls.slice(0, 2)).toEqual(['agent app.list', 'agent app.stop kvd']);
    expect(f.mechanism.calls[0]).toBe('unplug vm-a slot0');
  });

  it('never starts kvd twice: a target that runs it is only checked healthy', async () => {
    answerAppList(f.standby, ['kvd']);
    expect(await resumeAppMove(f.pair, interruptedAt('healthy'), () => undefined)).toBe('finished');
    expect(f.standby.calls).toEqual(['agent app.list']);
    expect(f.mechanism.calls).toEqual(['unplug vm-a slot0']);
    expect(findArea(f.pair.table, appAreaName('kvd'))?.user).toBe('vm-b');
  });
});
