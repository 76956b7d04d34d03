import { beforeEach, describe, expect, it, vi } from 'vitest';
import { type ReattachResult, reattachVms } from '../../../src/pair/reattach.js';
import { type TakeBackHost, takeBack } from '../../../src/pair/take-back.js';
import type { PairVm } from '../../../src/pair/vm-factory.js';
import type { AttachDoc } from '../../../src/recovery/identity.js';
import type { StateDoc } from '../../../src/state/index.js';
import { appAreaName, type ResourceTable, recordObserved } from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';
import { type FakePair, type FakeVm, fakePair, reportMemoryAndApps } from './fake-pair.js';

// Finding and reconnecting the QEMUs is QEMU's (integration tests): here re-attach's result is scripted.
vi.mock('../../../src/pair/reattach.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../src/pair/reattach.js')>()),
  reattachVms: vi.fn(),
}));
const reattach = vi.mocked(reattachVms);
beforeEach(() => {
  reattach.mockReset();
});

const attach = { version: 1, savedAt: '', vms: [], endpointPorts: {} } as unknown as AttachDoc;

/**
 * A fake pair as a previous daemon left it: kvd and cron on vm-a, their slots plugged as the table
 * records; `running` apps per VM answer app.list. `found` are the VMs re-attach gets back, the others
 * gone with `faults`. The host records what takeBack asks of the pair.
 */
async function leftRunning(options: {
  found: Array<'vm-a' | 'vm-b'>;
  running?: Partial<Record<'vm-a' | 'vm-b', string[]>>;
  faults?: ReattachResult['faults'];
  operations?: StateDoc['operations'];
  savedBudgetBytes?: number;
  isSaved?: boolean;
}) {
  const f: FakePair = await fakePair();
  let table: ResourceTable = f.pair.table;
  for (const [app, bytes] of [
    ['kvd', 128 * MiB],
    ['cron', 32 * MiB],
  ] as const)
    table = recordObserved(table, { area: appAreaName(app), pluggedBytes: bytes, atMs: 1, by: 'qmp' }).table;
  Object.assign(f.pair.config, { stateDir: '/nonexistent/baton', budgetBytes: table.budgetBytes });
  f.active.nodeBytes.set(1, 128 * MiB);
  f.active.nodeBytes.set(2, 32 * MiB);
  const fakes: Record<string, FakeVm> = { 'vm-a': f.active, 'vm-b': f.standby };
  for (const [name, fake] of Object.entries(fakes))
    reportMemoryAndApps(fake, options.running?.[name as 'vm-a' | 'vm-b'] ?? []);
  (f.pair.vms as Map<string, PairVm>).clear();
  const gone = new Map(
    (['vm-a', 'vm-b'] as const)
      .filter((n) => !options.found.includes(n))
      .map((n) => [n, `pid ${n === 'vm-a' ? 4101 : 4102} does not exist`]),
  );
  reattach.mockResolvedValue({
    vms: options.found.map((n) => (fakes[n] as FakeVm).vm),
    gone,
    faults: options.faults ?? new Map([...gone.keys()].map((n) => [n, 'qemu-exit' as const])),
    durationMs: 42,
  });
  const saved: StateDoc | undefined =
    options.isSaved === false
      ? undefined
      : ({
          schemaVersion: 1,
          epoch: table.epoch,
          table: { ...table, budgetBytes: options.savedBudgetBytes ?? table.budgetBytes },
          operations: options.operations ?? [],
          history: [],
        } as unknown as StateDoc);
  const asked: string[] = [];
  const host: TakeBackHost = {
    pair: f.pair as unknown as TakeBackHost['pair'],
    restore: (doc) => {
      asked.push('restore');
      Object.assign(f.pair, { table: doc.table });
    },
    adopt: (vm) => {
      asked.push(`adopt ${vm.machine.spec.name}`);
      (f.pair.vms as Map<string, PairVm>).set(vm.machine.spec.name, vm);
    },
    restartApp: async (name, vm) => void asked.push(`restart ${name} on ${vm.machine.spec.name}`),
  };
  const progress: string[] = [];
  const run = () => takeBack(host, attach, saved, (line) => progress.push(line));
  return { f, asked, progress, run };
}

describe('takeBack', () => {
  it('takes both VMs back as they run: adopted, each running app routed where it runs, nothing started', async () => {
    const { f, asked, run } = await leftRunning({
      found: ['vm-a', 'vm-b'],
      running: { 'vm-a': ['kvd', 'cron'] },
    });
    expect(await run()).toEqual({ outcome: 'taken', durationMs: 42, isStandbyGone: false });
    expect(asked).toEqual(['restore', 'adopt vm-a', 'adopt vm-b']);
    expect(f.endpointCalls).toEqual([`route vm-a:${f.active.vm.forwards.get('kvd')}`]);
    expect(f.mechanism.calls).toEqual([]);
    expect(reattach).toHaveBeenCalledWith([], f.pair.log, '/nonexistent/baton/run');
  });

  it('starts again an app that does not run on the VM the table gives it', async () => {
    const { asked, run } = await leftRunning({ found: ['vm-a', 'vm-b'], running: { 'vm-a': ['cron'] } });
    await run();
    expect(asked).toEqual(['restore', 'adopt vm-a', 'adopt vm-b', 'restart kvd on vm-a']);
  });

  it('treats a lost active as the fault it was: the standby is adopted and a failover is asked for', async () => {
    const { asked, progress, run } = await leftRunning({
      found: ['vm-b'],
      faults: new Map([['vm-a', 'GUEST_PANICKED']]),
    });
    const taken = await run();
    expect(taken).toMatchObject({
      outcome: 'taken',
      isStandbyGone: false,
      fault: { vm: 'vm-a', signal: 'GUEST_PANICKED' },
    });
    expect(asked).toEqual(['restore', 'adopt vm-b']);
    expect(progress.at(-1)).toBe(
      'the active vm-a: pid 4101 does not exist; failing over to vm-b (GUEST_PANICKED)',
    );
  });

  it('says the standby is gone, with no fault when it ran no app', async () => {
    const { run } = await leftRunning({ found: ['vm-a'], running: { 'vm-a': ['kvd', 'cron'] } });
    const taken = await run();
    expect(taken).toEqual({ outcome: 'taken', durationMs: 42, isStandbyGone: true });
  });

  it('boots afresh when neither VM can be taken back, saying why', async () => {
    const { asked, progress, run } = await leftRunning({ found: [] });
    expect(await run()).toEqual({ outcome: 'not-taken' });
    expect(asked).toEqual([]);
    expect(progress).toEqual([
      'cannot re-attach: no VM can be taken back (vm-a: pid 4101 does not exist; vm-b: pid 4102 does not exist); booting a fresh pair',
    ]);
  });

  it('boots afresh when the target of an interrupted whole-VM failover is gone, stopping the VM it found', async () => {
    const failover = {
      id: 'op1',
      kind: 'whole-vm',
      apps: ['kvd'],
      fromVm: 'vm-a',
      toVm: 'vm-b',
      history: [],
    };
    const { f, progress, run } = await leftRunning({
      found: ['vm-a'],
      operations: [failover] as unknown as StateDoc['operations'],
    });
    expect(await run()).toEqual({ outcome: 'not-taken' });
    expect(f.active.calls.at(-1)).toBe('shutdown 2000 ms');
    expect(progress[0]).toBe(
      'cannot re-attach: the target of the interrupted failover op1, vm-b, is gone (pid 4102 does not exist); booting a fresh pair',
    );
  });

  it('stops the VMs it found when there is no saved state to take them back with', async () => {
    const { f, progress, run } = await leftRunning({ found: ['vm-a', 'vm-b'], isSaved: false });
    expect(await run()).toEqual({ outcome: 'not-taken' });
    expect(f.active.calls.at(-1)).toBe('shutdown 2000 ms');
    expect(f.standby.calls.at(-1)).toBe('shutdown 2000 ms');
    expect(progress[0]).toBe('cannot re-attach: no saved state; booting a fresh pair');
  });

  it('blocks on a switchover a restart interrupted, starting nothing', async () => {
    const switchover = {
      id: 'op3',
      kind: 'switchover',
      apps: ['kvd'],
      fromVm: 'vm-a',
      toVm: 'vm-b',
      phase: 'place',
      phaseApp: 'kvd',
      history: [],
    };
    const { f, asked, run } = await leftRunning({
      found: ['vm-a', 'vm-b'],
      operations: [switchover] as unknown as StateDoc['operations'],
    });
    expect(await run()).toEqual({ outcome: 'blocked' });
    expect(f.pair.state).toBe('blocked');
    expect(f.pair.blockedReason).toBe(
      'the switchover op3 was interrupted by a daemon restart at place of kvd: check where its apps run, then baton down and up',
    );
    expect(asked).toEqual(['restore', 'adopt vm-a', 'adopt vm-b']);
  });

  it("keeps the running pair's budget when the config's differs, and says so", async () => {
    const { progress, run } = await leftRunning({
      found: ['vm-a', 'vm-b'],
      running: { 'vm-a': ['kvd', 'cron'] },
      savedBudgetBytes: 1024 * MiB,
    });
    expect((await run()).outcome).toBe('taken');
    expect(progress[0]).toBe(
      "the config's budget (736 MiB) differs from the running pair's (1 GiB): keeping the running pair's until it is booted afresh (baton down, then baton up)",
    );
  });
});
