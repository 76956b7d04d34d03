import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { waitForProtected } from '../../../src/bench/bench-pair.js';
import { waitForFirstAnswer } from '../../../src/bench/client-probe.js';
import { measureRecovery } from '../../../src/bench/measure-recovery.js';
import type { Pair } from '../../../src/pair/pair.js';
import type { FailoverRecord } from '../../../src/state/history.js';
import type { TrafficStore } from '../../../src/traffic/store.js';
import { finishedRecord } from '../daemon/view-pair.js';
import { startLineServer } from '../pair/fake-servers.js';

vi.mock('../../../src/bench/client-probe.js', () => ({ waitForFirstAnswer: vi.fn() }));
vi.mock('../../../src/bench/bench-pair.js', async (actual) => ({
  ...(await actual<typeof import('../../../src/bench/bench-pair.js')>()),
  waitForProtected: vi.fn(async () => true),
}));
const probe = vi.mocked(waitForFirstAnswer);
const protectedWait = vi.mocked(waitForProtected);

const INJECTED_AT_MS = 1000;
const INJECTED_AT_WALL_MS = Date.parse('2026-12-01T10:00:00.000Z');

/** A pair whose apps answer SET on loopback servers; `inject` appends `record` to its history. */
async function fakePair(apps: string[], answer = 'OK') {
  const requests: string[] = [];
  const ports = new Map<string, number>();
  for (const app of apps)
    ports.set(
      app,
      await startLineServer((data) => {
        requests.push(`${app}: ${data.trim()}`);
        return `${answer}\n`;
      }),
    );
  const pair = {
    roles: { active: 'vm-a', standby: 'vm-b' },
    history: [] as FailoverRecord[],
    endpointPort: (app: string) => ports.get(app) ?? 0,
    endpoints: new Map(apps.map((app) => [app, { currentTarget: { vm: 'vm-a' } }])),
  };
  return { pair, requests, asPair: pair as unknown as Pair };
}

/** The record the fault's failover leaves: it started 200 ms after the injection. */
function record(fields: Partial<FailoverRecord>): FailoverRecord {
  const phases = [
    { name: 'fence', ms: 50 },
    { name: 'plug', ms: 300 },
  ];
  const startedAt = new Date(INJECTED_AT_WALL_MS + 200).toISOString();
  return finishedRecord({ trigger: 'guest-panic on vm-a', startedAt, phases, ...fields });
}

beforeEach(() => {
  vi.spyOn(performance, 'now').mockReturnValue(INJECTED_AT_MS);
  vi.spyOn(Date, 'now').mockReturnValue(INJECTED_AT_WALL_MS);
});

afterEach(() => {
  vi.restoreAllMocks();
  probe.mockReset();
  protectedWait.mockClear();
});

describe('measureRecovery', () => {
  it('writes the key to every app, then times from the injection to the last first answer', async () => {
    const { pair, requests, asPair } = await fakePair(['kvd-1', 'kvd-2']);
    probe.mockResolvedValueOnce(INJECTED_AT_MS + 700.04).mockResolvedValueOnce(INJECTED_AT_MS + 1234.56);
    const result = await measureRecovery(asPair, {
      apps: ['kvd-1', 'kvd-2'],
      kind: 'whole-vm',
      tag: 'run-1',
      inject: async () => {
        pair.history.push(record({}));
      },
    });
    expect(requests).toEqual(['kvd-1: SET bench-run-1 v-run-1', 'kvd-2: SET bench-run-1 v-run-1']);
    expect(result.totalMs).toBe(1234.6);
    expect(result.trigger).toBe('guest-panic on vm-a');
    expect(result.phasesMs).toMatchObject({ detect: 200, fence: 50, plug: 300, route: 684.6 });
    expect(protectedWait).toHaveBeenCalledWith(asPair, undefined);
  });

  it('asks each app GET of its key and counts only answers routed to the standby it moves to', async () => {
    const { pair, asPair } = await fakePair(['kvd']);
    probe.mockResolvedValue(INJECTED_AT_MS + 10);
    await measureRecovery(asPair, {
      apps: ['kvd'],
      kind: 'app',
      tag: 't',
      inject: async () => {
        pair.history.push(record({ kind: 'app' }));
      },
    });
    const asked = probe.mock.calls[0]?.[0];
    expect(asked).toMatchObject({
      request: 'GET bench-t',
      expected: 'VALUE v-t',
      port: pair.endpointPort('kvd'),
    });
    expect(asked?.isRecovered()).toBe(false);
    pair.endpoints.set('kvd', { currentTarget: { vm: 'vm-b' } });
    expect(asked?.isRecovered()).toBe(true);
    expect(protectedWait).not.toHaveBeenCalled();
  });

  it('does not wait for re-protection after a switchover', async () => {
    const { pair, asPair } = await fakePair(['kvd']);
    probe.mockResolvedValue(INJECTED_AT_MS + 10);
    await measureRecovery(asPair, {
      apps: ['kvd'],
      kind: 'switchover',
      tag: 't',
      inject: async () => {
        pair.history.push(record({ kind: 'switchover' }));
      },
    });
    expect(protectedWait).not.toHaveBeenCalled();
  });

  it('ignores records older than the injection and of another kind', async () => {
    const { pair, asPair } = await fakePair(['kvd']);
    pair.history.push(record({ id: 'old', trigger: 'old' }));
    probe.mockResolvedValue(INJECTED_AT_MS + 10);
    const result = await measureRecovery(asPair, {
      apps: ['kvd'],
      kind: 'whole-vm',
      tag: 't',
      protectedTimeoutMs: 5000,
      inject: async () => {
        pair.history.push(record({ kind: 'app', trigger: 'app first' }), record({ trigger: 'the new one' }));
      },
    });
    expect(result.record.trigger).toBe('the new one');
    expect(protectedWait).toHaveBeenCalledWith(asPair, 5000);
  });

  it('fails with the failover result and error when the failover did not succeed', async () => {
    const { pair, asPair } = await fakePair(['kvd']);
    probe.mockResolvedValue(INJECTED_AT_MS + 10);
    const run = measureRecovery(asPair, {
      apps: ['kvd'],
      kind: 'whole-vm',
      tag: 't',
      inject: async () => {
        pair.history.push(record({ result: 'failed', error: 'plug timed out' }));
      },
    });
    await expect(run).rejects.toMatchObject({
      code: 'BENCH_FAILED',
      message: 'Benchmark t failed: the whole-vm failover ended failed: plug timed out',
    });
    expect(protectedWait).not.toHaveBeenCalled();
  });

  it("fails with the injection's error, leaving no probe's later timeout unhandled", async () => {
    const { asPair } = await fakePair(['kvd']);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let probeTimedOut = (): void => undefined;
      probe.mockImplementation(
        () =>
          new Promise((_, reject) => {
            probeTimedOut = () => reject(new Error('probe timed out'));
          }),
      );
      const run = measureRecovery(asPair, {
        apps: ['kvd'],
        kind: 'whole-vm',
        tag: 't',
        inject: async () => {
          throw new Error('kill: ESRCH');
        },
      });
      await expect(run).rejects.toThrow('kill: ESRCH');
      probeTimedOut();
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('fails before injecting when an app does not acknowledge the SET', async () => {
    const { asPair } = await fakePair(['kvd'], 'ERR read-only');
    const inject = vi.fn(async () => undefined);
    const run = measureRecovery(asPair, { apps: ['kvd'], kind: 'whole-vm', tag: 't', inject });
    await expect(run).rejects.toThrow(/SET bench-t through 127\.0\.0\.1:\d+ answered ERR read-only/);
    expect(inject).not.toHaveBeenCalled();
  });

  it('with a real client, writes its key through it and probes with the client, closing it either way', async () => {
    const { pair, asPair } = await fakePair(['redis']);
    const written: number[] = [];
    let closed = 0;
    const store = (isAcked: boolean): TrafficStore => ({
      write: async (n) => {
        written.push(n);
        return isAcked;
      },
      read: async () => true,
      close: () => {
        closed += 1;
      },
    });
    const connect = vi.fn(async () => store(true));
    probe.mockResolvedValue(INJECTED_AT_MS + 10);
    await measureRecovery(asPair, {
      apps: ['redis'],
      kind: 'app',
      tag: 't',
      client: { connect, key: 21 },
      inject: async () => {
        pair.history.push(record({ kind: 'app' }));
      },
    });
    expect(connect).toHaveBeenCalledWith(pair.endpointPort('redis'), 5000);
    expect(written).toEqual([21]);
    expect(probe.mock.calls[0]?.[0]).toMatchObject({ connect, key: 21 });
    expect(closed).toBe(1);

    const refused = measureRecovery(asPair, {
      apps: ['redis'],
      kind: 'app',
      tag: 't',
      client: { connect: async () => store(false), key: 22 },
      inject: async () => undefined,
    });
    await expect(refused).rejects.toThrow(
      /key 22 failed: the write through 127\.0\.0\.1:\d+ was not acknowledged/,
    );
    expect(closed).toBe(2);
  });
});
