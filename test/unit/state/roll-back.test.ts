import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OperationPhaseError, StatePhaseUnknownError } from '../../../src/errors.js';
import { encodeEnvelope } from '../../../src/state/envelope.js';
import { beginPhase, createOperation, endPhase, isOperationOver } from '../../../src/state/operations.js';
import {
  beginUndo,
  endUndo,
  startRollBack,
  succeededSteps,
  undosLeft,
} from '../../../src/state/roll-back.js';
import { StateStore } from '../../../src/state/store.js';
import type { InFlightOperation, StepRef } from '../../../src/state/types.js';
import { stateC } from '../table/fixtures.js';
import { sampleDoc, tempStateDir } from './fixtures.js';

const AT = '2025-01-01T00:00:00.000Z';
const FAILURE = {
  error: 'agent app.start failed: no such file',
  reason: 'moving A failed: agent app.start failed: no such file',
};

/** An app move of A whose steps up to `failed` succeeded and `failed` failed. */
function failedMove(failed: StepRef['phase']): InFlightOperation {
  let op = createOperation({
    id: 'op-3',
    kind: 'app',
    app: 'A',
    fromVm: 'vm-a',
    toVm: 'vm-b',
    trigger: 't',
    startedAt: AT,
  });
  for (const phase of ['stop', 'unplug', 'disk-detach', 'disk', 'plug', 'confirm', 'start'] as const) {
    op = beginPhase(op, phase, AT);
    if (phase === failed) return endPhase(op, phase, 'failed', AT, FAILURE.error);
    op = endPhase(op, phase, 'ok', AT);
  }
  return op;
}

const step = (phase: StepRef['phase']): StepRef => ({ phase, app: 'A' });

describe('rolling an operation back', () => {
  it('lists the steps that succeeded, newest first, as the undos left', () => {
    const op = startRollBack(failedMove('start'), FAILURE, AT);
    expect(succeededSteps(op).map((s) => s.phase)).toEqual([
      'stop',
      'unplug',
      'disk-detach',
      'disk',
      'plug',
      'confirm',
    ]);
    // The confirm only waited: it has no undo and is not listed.
    expect(undosLeft(op).map((s) => s.phase)).toEqual(['plug', 'disk', 'disk-detach', 'unplug', 'stop']);
    expect(op.rollingBack).toEqual({ ...FAILURE, startedAt: AT });
    expect(isOperationOver(op)).toBe(false);
  });

  it('keeps the first failure when marked twice', () => {
    const op = startRollBack(
      startRollBack(failedMove('start'), FAILURE, AT),
      { error: 'later', reason: 'later' },
      AT,
    );
    expect(op.rollingBack?.error).toBe(FAILURE.error);
  });

  it('journals an undo intent then its result, and drops an undone step from the undos left', () => {
    let op = startRollBack(failedMove('start'), FAILURE, AT);
    op = beginUndo(op, step('plug'), AT);
    expect(op.history.at(-1)).toEqual({
      phase: 'plug',
      app: 'A',
      mark: 'undo',
      state: 'intent',
      startedAt: AT,
    });
    // Interrupted here: the plug's undo is still left (it runs again).
    expect(undosLeft(op)[0]).toEqual(step('plug'));
    op = endUndo(op, step('plug'), 'ok', AT);
    expect(op.history.at(-1)).toMatchObject({ mark: 'undo', state: 'done', outcome: 'ok', endedAt: AT });
    expect(undosLeft(op).map((s) => s.phase)).toEqual(['disk', 'disk-detach', 'unplug', 'stop']);
    // The forward position is untouched: the failed start is still where the operation stopped.
    expect(op).toMatchObject({ phase: 'start', phaseState: 'done', phaseOutcome: 'failed' });
  });

  it('keeps an undo that failed in the undos left', () => {
    let op = startRollBack(failedMove('start'), FAILURE, AT);
    op = endUndo(beginUndo(op, step('plug'), AT), step('plug'), 'failed', AT, 'device_del timed out');
    expect(undosLeft(op)[0]).toEqual(step('plug'));
  });

  it('refuses an undo while not rolling back, of a step that never succeeded, or before the last undo ended', () => {
    const failed = failedMove('start');
    expect(() => beginUndo(failed, step('plug'), AT)).toThrow(OperationPhaseError);
    const op = startRollBack(failed, FAILURE, AT);
    expect(() => beginUndo(op, step('start'), AT)).toThrow('it did not succeed, or is undone');
    expect(() => beginUndo(beginUndo(op, step('plug'), AT), step('disk'), AT)).toThrow('has not ended');
    expect(() => endUndo(op, step('plug'), 'ok', AT)).toThrow('it is not the undo in progress');
  });

  it('refuses a forward phase once rolling back', () => {
    const op = startRollBack(failedMove('start'), FAILURE, AT);
    expect(() => beginPhase(op, 'start', AT)).toThrow('the failover is rolling back');
  });
});

describe('state files and the roll-back', () => {
  it('loads a state file written before roll-backs were journaled (no mark, no rollingBack) as it was', async () => {
    const dir = await tempStateDir();
    // The body exactly as the previous version wrote it: an app move whose start failed, nothing marked.
    const body = {
      schemaVersion: 1,
      epoch: 7,
      table: stateC(),
      operations: [
        {
          id: 'op-old',
          kind: 'app',
          app: 'A',
          apps: ['A'],
          fromVm: 'vm-a',
          toVm: 'vm-b',
          trigger: 'A exited',
          startedAt: AT,
          phase: 'plug',
          phaseApp: 'A',
          phaseState: 'done',
          phaseOutcome: 'failed',
          history: [
            { phase: 'stop', app: 'A', state: 'done', startedAt: AT, endedAt: AT, outcome: 'ok' },
            {
              phase: 'plug',
              app: 'A',
              state: 'done',
              startedAt: AT,
              endedAt: AT,
              outcome: 'failed',
              detail: 'x',
            },
          ],
        },
      ],
      history: [],
    };
    await writeFile(join(dir, 'state.json'), encodeEnvelope(body));
    const loaded = await new StateStore(dir).load();
    expect(loaded.warnings).toEqual([]);
    expect(loaded.doc?.operations).toEqual(body.operations);
    expect(loaded.doc?.operations[0]?.rollingBack).toBeUndefined();
  });

  it('saves and loads an operation rolling back midway, mark and undo entries included', async () => {
    const dir = await tempStateDir();
    let op = startRollBack(failedMove('start'), FAILURE, AT);
    op = beginUndo(endUndo(beginUndo(op, step('plug'), AT), step('plug'), 'ok', AT), step('disk'), AT);
    const doc = { ...sampleDoc(5), operations: [op] };
    const store = new StateStore(dir);
    await store.save(doc);
    const loaded = await new StateStore(dir).load();
    expect(loaded.doc?.operations).toEqual([op]);
  });

  it('refuses a step mark this version does not know, naming the version', async () => {
    const dir = await tempStateDir();
    const op = failedMove('start');
    const foreign = {
      ...op,
      history: [...op.history, { ...step('plug'), mark: 'compensate', state: 'intent', startedAt: AT }],
    };
    await writeFile(join(dir, 'state.json'), encodeEnvelope({ ...sampleDoc(3), operations: [foreign] }));
    const error = await new StateStore(dir).load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StatePhaseUnknownError);
    expect(error).toMatchObject({ code: 'STATE_PHASE_UNKNOWN', field: 'mark', phase: 'compensate' });
    expect((error as Error).message).toBe(
      "state.json (state schema version 1) has operation op-3 at a step marked 'compensate', which this baton (state schema version 1, marks undo) does not know: it was written by another version; refusing to read it",
    );
  });
});
