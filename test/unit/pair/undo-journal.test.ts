import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { PairPersistence } from '../../../src/pair/persist.js';
import { undoJournal } from '../../../src/pair/undo-journal.js';
import { planRecovery, StateStore } from '../../../src/state/index.js';
import { createTable } from '../../../src/table/index.js';

const MiB = 2 ** 20;
const root = mkdtempSync(join(tmpdir(), 'baton-undo-journal-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const log = createLogger({ level: 'silent' });

function view() {
  const table = createTable({
    budgetBytes: 512 * MiB,
    blockBytes: 2 * MiB,
    roles: { active: 'vm-a', standby: 'vm-b' },
    osAreas: [
      { vm: 'vm-a', sizeBytes: 96 * MiB },
      { vm: 'vm-b', sizeBytes: 96 * MiB },
    ],
    monitorBytes: 32 * MiB,
    osMinBytes: 96 * MiB,
  }).table;
  return {
    table,
    history: [],
    vms: new Map(),
    roles: { active: 'vm-a', standby: 'vm-b' },
    endpointPorts: () => ({}),
  };
}

describe('undoJournal', () => {
  it('has the rolling-back mark in the saved state before it resolves, then each undo in the state and the event journal', async () => {
    const dir = join(root, 'a');
    const { persistence } = await PairPersistence.open(dir, { log });
    persistence.bind(view());
    persistence.open({
      id: 'op1',
      kind: 'app',
      app: 'kv',
      fromVm: 'vm-a',
      toVm: 'vm-b',
      trigger: 't',
      startedAt: 'x',
    });
    for (const phase of ['stop', 'unplug', 'disk-detach', 'disk', 'plug']) {
      await persistence.intent('op1', phase);
      persistence.result(
        'op1',
        phase,
        phase === 'plug' ? 'failed' : 'ok',
        phase === 'plug' ? 'refused' : undefined,
      );
    }
    const journal = undoJournal(persistence, log);
    await journal.rollBack('op1', { error: 'refused', reason: 'moving kv failed: refused' });
    // No flush here: the mark must be on disk already.
    const marked = await new StateStore(dir).load();
    expect(marked.doc?.operations[0]?.rollingBack).toMatchObject({
      error: 'refused',
      reason: 'moving kv failed: refused',
    });

    await journal.undoIntent('op1', 'disk', { phase: 'disk', app: 'kv' });
    journal.undoResult('op1', 'disk', { phase: 'disk', app: 'kv' }, 'ok');
    await journal.undoIntent('op1', 'disk-detach', { phase: 'disk-detach', app: 'kv' });
    await persistence.flush();
    const saved = (await new StateStore(dir).load()).doc?.operations[0];
    if (saved === undefined) throw new Error('the operation was not saved');
    expect(saved.history.slice(-2)).toMatchObject([
      { phase: 'disk', app: 'kv', mark: 'undo', state: 'done', outcome: 'ok' },
      { phase: 'disk-detach', app: 'kv', mark: 'undo', state: 'intent' },
    ]);
    // What a daemon killed now would do: the disk-detach's undo again, then the unplug's and the stop's.
    expect(planRecovery(saved).undos?.map((step) => step.phase)).toEqual(['disk-detach', 'unplug', 'stop']);
    const events = (await persistence.journal.readAll()).events.filter((event) => event.opId === 'op1');
    const line = (event: Record<string, unknown>) =>
      [event.type, event.mark, event.phase].filter((part) => part !== undefined).join(' ');
    expect(events.map(line)).toEqual([
      'operation',
      ...['stop', 'unplug', 'disk-detach', 'disk', 'plug'].flatMap((phase) => [
        `intent ${phase}`,
        `result ${phase}`,
      ]),
      'rolling-back',
      'intent undo disk',
      'result undo disk',
      'intent undo disk-detach',
    ]);
    expect(events.filter((event) => event.mark === 'undo').map((event) => event.name)).toEqual([
      'undo-disk',
      'undo-disk',
      'undo-disk-detach',
    ]);
    await persistence.close();
  });

  it('logs, never throws, an undo of an operation it does not hold', async () => {
    const { persistence } = await PairPersistence.open(join(root, 'b'), { log });
    const journal = undoJournal(persistence, log);
    await expect(journal.undoIntent('nope', 'plug', { phase: 'plug', app: 'kv' })).resolves.toBeUndefined();
    expect(() => journal.undoResult('nope', 'plug', { phase: 'plug', app: 'kv' }, 'ok')).not.toThrow();
    await persistence.close();
  });
});
