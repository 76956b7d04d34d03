import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { PairPersistence } from '../../../src/pair/persist.js';
import type { FailoverRecord } from '../../../src/state/history.js';
import { StateStore } from '../../../src/state/index.js';
import { createTable } from '../../../src/table/index.js';

const MiB = 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), 'baton-persist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger({ level: 'silent' });

function table() {
  return createTable({
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
}

describe('PairPersistence', () => {
  it('saves the table on change, raises the epoch for history-only changes, journals phases', async () => {
    const { persistence, loaded } = await PairPersistence.open(dir, { log });
    expect(loaded.source).toBe('empty');
    const history: FailoverRecord[] = [];
    const view = {
      table: table(),
      history,
      vms: new Map(),
      roles: { active: 'vm-a', standby: 'vm-b' },
      endpointPorts: () => ({ kvd: 4100 }),
    };
    persistence.bind(view);
    persistence.changed();
    persistence.changed();
    await persistence.flush();
    const first = await new StateStore(dir).load();
    expect(first.doc?.table).toEqual(view.table);
    const epoch = first.doc?.epoch ?? 0;
    history.push({
      id: 'f1',
      kind: 'whole-vm',
      trigger: 'request on vm-a',
      fromVm: 'vm-a',
      toVm: 'vm-b',
      startedAt: new Date().toISOString(),
      totalMs: 10,
      result: 'succeeded',
      phases: [],
    });
    persistence.changed();
    await persistence.flush();
    const second = await new StateStore(dir).load();
    expect(second.doc?.epoch).toBeGreaterThan(epoch);
    expect(second.doc?.history.map((r) => r.id)).toEqual(['f1']);

    persistence.open({
      id: 'op1',
      kind: 'whole-vm',
      apps: ['kvd'],
      fromVm: 'vm-a',
      toVm: 'vm-b',
      trigger: 'request',
      startedAt: new Date().toISOString(),
    });
    await persistence.intent('op1', 'fence');
    persistence.result('op1', 'fence', 'ok');
    await persistence.intent('op1', 'plug');
    await persistence.flush();
    const third = await new StateStore(dir).load();
    expect(third.doc?.operations[0]).toMatchObject({
      id: 'op1',
      phase: 'plug',
      phaseApp: 'kvd',
      phaseState: 'intent',
    });
    persistence.closeOperation('op1', 'succeeded');
    await persistence.close();
    const journal = readFileSync(join(dir, 'events.jsonl'), 'utf8');
    expect(journal).toMatch(/"opId":"op1","phase":"fence".*"type":"intent"/);
    expect(journal).toMatch(/"phase":"fence","outcome":"ok".*"type":"result"/);
    expect(JSON.parse(readFileSync(join(dir, 'vms.json'), 'utf8')).endpointPorts).toEqual({ kvd: 4100 });
  });

  it('journals the faults it is told of, for the record and the event stream', async () => {
    const faultDir = mkdtempSync(join(tmpdir(), 'baton-persist-fault-'));
    try {
      const { persistence } = await PairPersistence.open(faultDir, { log });
      persistence.noteFault({ vm: 'vm-a', app: 'kvd', signal: 'crashed', action: 'restart-in-place' });
      persistence.noteFault({ vm: 'vm-a', signal: 'GUEST_PANICKED', action: 'failover' });
      await persistence.close();
      const faults = readFileSync(join(faultDir, 'events.jsonl'), 'utf8')
        .split('\n')
        .filter((line) => line.includes('"type":"fault"'))
        .map((line) => JSON.parse(line));
      expect(faults).toEqual([
        expect.objectContaining({ vm: 'vm-a', app: 'kvd', signal: 'crashed', action: 'restart-in-place' }),
        expect.objectContaining({ vm: 'vm-a', signal: 'GUEST_PANICKED', action: 'failover' }),
      ]);
    } finally {
      rmSync(faultDir, { recursive: true, force: true });
    }
  });

  it('says whether a save is under way and counts the saves started, for a reader of the directory', async () => {
    const own = mkdtempSync(join(tmpdir(), 'baton-persist-saves-'));
    const { persistence } = await PairPersistence.open(own, { log });
    persistence.bind({
      table: table(),
      history: [],
      vms: new Map(),
      roles: { active: 'vm-a', standby: 'vm-b' },
      endpointPorts: () => ({}),
    });
    expect(persistence.saves).toEqual({ isSaving: false, started: 0 });
    persistence.changed();
    expect(persistence.saves.isSaving).toBe(true);
    await persistence.flush();
    expect(persistence.saves).toEqual({ isSaving: false, started: 1 });
    await persistence.close();
    rmSync(own, { recursive: true, force: true });
  });
});
