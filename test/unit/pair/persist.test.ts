import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { attachDocOf, PairPersistence, type PersistedView, stepOf } from '../../../src/pair/persist.js';
import type { PairVm } from '../../../src/pair/vm-factory.js';
import type { FailoverRecord } from '../../../src/state/history.js';
import { StateStore } from '../../../src/state/index.js';
import { emptyPairTable, fakeVm, recordingLogger } from './fake-pair.js';

const dir = mkdtempSync(join(tmpdir(), 'baton-persist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger({ level: 'silent' });

/** An in-flight operation's fields as a failover opens it. */
const operation = (id: string, kind: 'whole-vm' | 'app') => ({
  id,
  kind,
  ...(kind === 'app' ? { app: 'kvd' } : { apps: ['kvd'] }),
  fromVm: 'vm-a',
  toVm: 'vm-b',
  trigger: 'request on vm-a',
  startedAt: new Date().toISOString(),
});

/** A fresh state directory (removed with `dir`). */
const freshDir = (name: string) => mkdtempSync(join(dir, `${name}-`));

/** A pair's view with no VMs, for the saves that need only something to save. */
function viewOf(): PersistedView {
  return {
    table: emptyPairTable(),
    history: [],
    vms: new Map(),
    roles: { active: 'vm-a', standby: 'vm-b' },
    endpointPorts: () => ({}),
  };
}

describe('PairPersistence', () => {
  it('saves the table on change, raises the epoch for history-only changes, journals phases', async () => {
    const { persistence, loaded } = await PairPersistence.open(dir, { log });
    expect(loaded.source).toBe('empty');
    const history: FailoverRecord[] = [];
    const view = {
      table: emptyPairTable(),
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

    persistence.open(operation('op1', 'whole-vm'));
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
    const faultDir = freshDir('fault');
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
  });

  it('says whether a save is under way and counts the saves started, for a reader of the directory', async () => {
    const own = freshDir('saves');
    const { persistence } = await PairPersistence.open(own, { log });
    persistence.bind({
      table: emptyPairTable(),
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
  });

  it('coalesces changes: many at once make one save, changes during a save make one more', async () => {
    const own = freshDir('coalesce');
    const { persistence } = await PairPersistence.open(own, { log });
    persistence.bind(viewOf());
    for (let i = 0; i < 10; i += 1) persistence.changed();
    await persistence.flush();
    expect(persistence.saves.started).toBe(1);
    persistence.changed();
    await expect.poll(() => persistence.saves.started).toBe(2);
    for (let i = 0; i < 10; i += 1) persistence.changed();
    await persistence.flush();
    expect(persistence.saves).toEqual({ isSaving: false, started: 3 });
    await persistence.close();
  });

  it('saves nothing before it is bound or after it is closed', async () => {
    const own = freshDir('idle');
    const { persistence } = await PairPersistence.open(own, { log });
    persistence.changed();
    expect(persistence.saves).toEqual({ isSaving: false, started: 0 });
    persistence.bind(viewOf());
    await persistence.close();
    persistence.changed();
    expect(persistence.saves).toEqual({ isSaving: false, started: 0 });
    expect(readdirSync(own).filter((name) => name.startsWith('state'))).toEqual([]);
  });

  it('logs a save that fails without throwing, and saves again on the next change', async () => {
    const own = freshDir('fail');
    const { log: recording, lines } = recordingLogger();
    const { persistence } = await PairPersistence.open(own, { log: recording });
    persistence.bind(viewOf());
    mkdirSync(join(own, 'vms.json')); // vms.json cannot be replaced: the save fails.
    persistence.changed();
    await persistence.flush();
    expect(lines.find((l) => l.msg === 'saving the state failed')).toMatchObject({ epoch: 1 });
    rmSync(join(own, 'vms.json'), { recursive: true });
    persistence.changed();
    await persistence.flush();
    expect((await new StateStore(own).load()).doc?.epoch).toBe(1);
    expect(JSON.parse(readFileSync(join(own, 'vms.json'), 'utf8')).vms).toEqual([]);
    await persistence.close();
  });

  it('takes the saved epoch and the open operations back when it opens a state directory again', async () => {
    const own = freshDir('reopen');
    const first = (await PairPersistence.open(own, { log })).persistence;
    first.bind(viewOf());
    first.open(operation('op7', 'app'));
    await first.flush();
    await first.close();
    const savedEpoch = (await new StateStore(own).load()).doc?.epoch ?? 0;
    const again = await PairPersistence.open(own, { log });
    expect([...again.persistence.operations.keys()]).toEqual(['op7']);
    again.persistence.bind(viewOf());
    again.persistence.closeOperation('op7', 'failed');
    await again.persistence.flush();
    const reloaded = await new StateStore(own).load();
    expect(reloaded.doc?.epoch).toBe(savedEpoch + 1);
    expect(reloaded.doc?.operations).toEqual([]);
    await again.persistence.close();
  });

  it('journals a phase that is not an operation step by its name, leaving the operation as it was', async () => {
    const own = freshDir('other');
    const { persistence } = await PairPersistence.open(own, { log });
    persistence.bind(viewOf());
    const op = persistence.open(operation('op8', 'whole-vm'));
    await persistence.intent('op8', 'reprotect');
    persistence.result('op8', 'reprotect', 'ok');
    await persistence.close();
    expect(persistence.operations.get('op8')).toEqual(op);
    const events = readFileSync(join(own, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((event) => event.name === 'reprotect');
    expect(events).toEqual([
      expect.objectContaining({ type: 'intent', opId: 'op8', phase: 'commit' }),
      expect.objectContaining({ type: 'result', opId: 'op8', phase: 'commit', outcome: 'ok' }),
    ]);
  });
});

describe('stepOf', () => {
  it('maps phase names to operation steps', () => {
    expect(stepOf('fence')).toEqual({ phase: 'fence' });
    expect(stepOf('plug:kvd')).toEqual({ phase: 'plug', app: 'kvd' });
    expect(stepOf('reprotect')).toBeUndefined();
    expect(stepOf('')).toBeUndefined();
  });
});

describe('attachDocOf', () => {
  it("records each VM's identity with its role, its forwards and the endpoints' ports", () => {
    const a = fakeVm('vm-a', { hostPort: 41001 });
    const b = fakeVm('vm-b', { hostPort: 41002 });
    const view: PersistedView = {
      ...viewOf(),
      vms: new Map<string, PairVm>([
        ['vm-a', a.vm],
        ['vm-b', b.vm],
      ]),
      roles: { active: 'vm-b', standby: 'vm-a' },
      endpointPorts: () => ({ kvd: 4100 }),
    };
    const doc = attachDocOf(view);
    expect(doc).toMatchObject({ version: 1, endpointPorts: { kvd: 4100 } });
    expect(
      doc.vms.map(({ name, role, pid, startTime, runDir, forwards }) => ({
        name,
        role,
        pid,
        startTime,
        runDir,
        forwards,
      })),
    ).toEqual([
      {
        name: 'vm-a',
        role: 'standby',
        pid: 4101,
        startTime: 777,
        runDir: '/run/baton/vm-a',
        forwards: { kvd: 41001 },
      },
      {
        name: 'vm-b',
        role: 'active',
        pid: 4102,
        startTime: 777,
        runDir: '/run/baton/vm-b',
        forwards: { kvd: 41002 },
      },
    ]);
    expect(doc.vms[0]?.spec).toBe(a.vm.machine.spec);
    expect(Number.isNaN(Date.parse(doc.savedAt))).toBe(false);
  });
});
