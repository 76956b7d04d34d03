import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type DemoOptions, runDemo } from '../../../src/cli/demo.js';
import { type DemoProfile, demoProfile } from '../../../src/cli/demo-guests.js';
import { createSilentLogger } from '../../../src/log.js';
import type { PairConfig } from '../../../src/pair/config.js';
import { Pair } from '../../../src/pair/pair.js';
import { freshScratchDir } from '../../../src/recovery/scratch-sweep.js';
import type { FailoverRecord } from '../../../src/state/history.js';
import type { TrafficConnector } from '../../../src/traffic/store.js';
import { resolveAccel } from '../../../src/vm/host-accel.js';

vi.mock('../../../src/pair/pair.js', () => ({ Pair: { start: vi.fn() } }));
vi.mock('../../../src/recovery/scratch-sweep.js', () => ({ freshScratchDir: vi.fn() }));
vi.mock('../../../src/vm/host-accel.js', () => ({ resolveAccel: vi.fn() }));
vi.mock('../../../src/cli/demo-guests.js', () => ({ demoProfile: vi.fn() }));
vi.mock('../../../src/cli/demo-support.js', async (actual) => ({
  ...(await actual<typeof import('../../../src/cli/demo-support.js')>()),
  printGuests: vi.fn(async () => undefined),
  routeAppsLeftHeld: vi.fn(),
  summary: (record: FailoverRecord) => `summary ${record.kind}`,
}));
vi.mock('../../../src/cli/render.js', () => ({
  renderResourceTable: () => '<table>',
  renderTimeline: (record: FailoverRecord) => `<timeline ${record.kind}>`,
}));
vi.mock('../../../src/daemon/views.js', () => ({
  tableView: (pair: { table: { areas: unknown[] } }) => ({ areas: structuredClone(pair.table.areas) }),
  historyView: (records: FailoverRecord[]) => records.map((r) => r.kind),
}));

/** An in-memory app behind the endpoint: every write is acknowledged; `lost` keys read back wrong; `closed` counts closed connections. */
function memoryStore(lost: Set<number> = new Set()) {
  const values = new Set<number>();
  const counts = { closed: 0 };
  const connect: TrafficConnector = async () => ({
    write: async (n) => {
      values.add(n);
      return true;
    },
    read: async (n) => values.has(n) && !lost.has(n),
    close: () => {
      counts.closed += 1;
    },
  });
  return { connect, counts };
}

/**
 * A pair whose agents play the demo's faults: an app crash takes the app down and the policy restarts
 * it in place 150 ms later (a crash while it is down does nothing); the third crash that hits it moves
 * it to vm-b (the crash loop); a panic of vm-b is a whole-VM failover and the pair is protected again.
 */
function scriptedPair(options: { hasActive?: boolean } = {}) {
  const requests: string[] = [];
  const restarts = new Map<string, number>();
  const history: Array<Partial<FailoverRecord>> = [];
  const areas = [{ name: 'app:kvd', user: 'vm-a' }];
  const state = { value: 'protected' };
  let crashes = 0;
  const app = { isUp: true };
  const agentOf = (vm: string) => ({
    request: async (method: string, params: { name: string }) => {
      requests.push(`${vm} ${method} ${params.name}`);
      if (!app.isUp) return {};
      crashes += 1;
      app.isUp = false;
      if (crashes < 3)
        setTimeout(() => {
          restarts.set('kvd', (restarts.get('kvd') ?? 0) + 1);
          app.isUp = true;
        }, 150);
      else {
        history.push({ kind: 'app' });
        areas[0] = { name: 'app:kvd', user: 'vm-b' };
      }
      return {};
    },
    injectPanic: async () => {
      requests.push(`${vm} panic`);
      history.push({ kind: 'whole-vm' });
      throw new Error('agent connection closed');
    },
  });
  const vm = (name: string) => ({ machine: { spec: { name }, agent: agentOf(name) } });
  const vms = new Map([
    ['vm-a', vm('vm-a')],
    ['vm-b', vm('vm-b')],
  ]);
  const stop = vi.fn(async () => undefined);
  const pair = {
    config: { helloTimeoutMs: 1000, apps: [{ name: 'kvd', hotStandby: true }] },
    endpointPort: () => 7777,
    activeVm: options.hasActive === false ? undefined : vms.get('vm-a'),
    vms,
    roles: { active: 'vm-a', standby: 'vm-b' },
    supervision: { restarts },
    history,
    table: { areas },
    get state() {
      return state.value;
    },
    stop,
  };
  vi.mocked(Pair.start).mockResolvedValue(pair as unknown as Pair);
  return { requests, stop };
}

let removed = 0;
const config = { name: 'demo config' } as unknown as PairConfig;

function profile(fields: Partial<DemoProfile> = {}): DemoProfile {
  return {
    guest: 'builtin',
    title: 'kvd in test guests',
    app: 'kvd',
    connect: memoryStore().connect,
    client: 'an in-memory client',
    pairConfig: async () => config,
    ...fields,
  };
}

function options(fields: Partial<DemoOptions> = {}) {
  const printed: string[] = [];
  const progress: string[] = [];
  const opts: DemoOptions = {
    accel: 'auto',
    guest: 'builtin',
    keys: 5,
    json: false,
    log: createSilentLogger(),
    print: (line) => printed.push(line),
    progress: (line) => progress.push(line),
    ...fields,
  };
  return { opts, printed, progress };
}

beforeEach(() => {
  vi.mocked(freshScratchDir).mockResolvedValue({
    dir: '/nonexistent/demo',
    remove: async () => {
      removed += 1;
    },
  });
  vi.mocked(resolveAccel).mockResolvedValue({ accel: 'tcg', reason: 'no /dev/kvm' });
  vi.mocked(demoProfile).mockReturnValue(profile());
});

afterEach(() => {
  vi.clearAllMocks();
  removed = 0;
});

describe('runDemo', () => {
  it('crashes the app, crash-loops it until it moves, panics the VM it moved to, then reads every write back', async () => {
    const { requests, stop } = scriptedPair();
    const { opts, printed } = options();
    const result = await runDemo(opts);
    expect(requests).toEqual([
      'vm-a fault.app-crash kvd',
      'vm-a fault.app-crash kvd',
      'vm-a fault.app-crash kvd',
      'vm-b panic',
    ]);
    expect(vi.mocked(Pair.start)).toHaveBeenCalledWith(config, expect.objectContaining({ accel: 'tcg' }));
    expect(result).toMatchObject({
      accel: 'tcg',
      guest: 'builtin',
      app: 'kvd',
      restartsInPlace: 2,
      failovers: ['app', 'whole-vm'],
    });
    expect(result.writesAcknowledged).toBeGreaterThanOrEqual(5);
    expect(result.writesReadable).toBe(result.writesAcknowledged);
    expect(result.tables.map((t) => [t.step, t.table])).toEqual([
      ['start', { areas: [{ name: 'app:kvd', user: 'vm-a' }] }],
      ['app crash', { areas: [{ name: 'app:kvd', user: 'vm-a' }] }],
      ['crash loop', { areas: [{ name: 'app:kvd', user: 'vm-b' }] }],
      ['guest panic', { areas: [{ name: 'app:kvd', user: 'vm-b' }] }],
    ]);
    expect(printed).toContain(
      'step 3, guest panic: injecting a kernel panic into vm-b (the standby, where kvd runs) ...',
    );
    expect(printed.filter((l) => l === '  kvd restarted in place again: killing it again')).toHaveLength(1);
    expect(printed.some((l) => l.startsWith('kvd crash-looped (2 kills in '))).toBe(true);
    expect(printed).toContain('\n<timeline whole-vm>\n');
    expect(printed.slice(-2)).toEqual([
      'pair stopped',
      `writes acknowledged: ${result.writesAcknowledged}, readable after failovers: ${result.writesAcknowledged}`,
    ]);
    expect(stop).toHaveBeenCalledTimes(1);
    expect(removed).toBe(1);
  });

  it('counts only the writes that read back right', async () => {
    scriptedPair();
    vi.mocked(demoProfile).mockReturnValue(profile({ connect: memoryStore(new Set([0, 2])).connect }));
    const result = await runDemo(options().opts);
    expect(result.writesReadable).toBe(result.writesAcknowledged - 2);
  });

  it('with --json prints only the result and sends the commentary to progress', async () => {
    scriptedPair();
    const { opts, printed, progress } = options({ json: true });
    const result = await runDemo(opts);
    expect(printed).toEqual([JSON.stringify(result)]);
    expect(progress[0]).toBe('accelerator: TCG (no /dev/kvm)');
    expect(progress).toContain('pair stopped');
  });

  it('fails on a missing image before resolving the accelerator or starting a guest', async () => {
    vi.mocked(demoProfile).mockReturnValue(
      profile({
        pairConfig: async () => {
          throw new Error('image not found: images/out/debian.qcow2');
        },
      }),
    );
    const { opts, printed } = options();
    await expect(runDemo(opts)).rejects.toThrow('image not found');
    expect(vi.mocked(resolveAccel)).not.toHaveBeenCalled();
    expect(vi.mocked(Pair.start)).not.toHaveBeenCalled();
    expect(removed).toBe(1);
    expect(printed).not.toContain('pair stopped');
  });

  it('removes the scratch folder when the pair does not start', async () => {
    vi.mocked(Pair.start).mockRejectedValue(new Error('vm-b: no hello'));
    const { opts, printed } = options();
    await expect(runDemo(opts)).rejects.toThrow('vm-b: no hello');
    expect(removed).toBe(1);
    expect(printed).not.toContain('pair stopped');
  });

  it('removes the scratch folder (stopping what the pair left) when stopping the pair fails', async () => {
    const { stop } = scriptedPair();
    stop.mockRejectedValue(new Error('vm-a: QMP quit timed out'));
    const { opts, progress } = options();
    await expect(runDemo(opts)).rejects.toThrow('vm-a: QMP quit timed out');
    expect(removed).toBe(1);
    expect(progress).not.toContain('pair stopped');
  });

  it('stops the traffic and the pair when the pair has no active VM to crash the app on', async () => {
    const { requests, stop } = scriptedPair({ hasActive: false });
    const store = memoryStore();
    vi.mocked(demoProfile).mockReturnValue(profile({ connect: store.connect }));
    const { opts, printed } = options();
    await expect(runDemo(opts)).rejects.toThrow('the pair has no active VM');
    expect(requests).toEqual([]);
    expect(store.counts.closed).toBe(1);
    expect(stop).toHaveBeenCalledTimes(1);
    expect(removed).toBe(1);
    expect(printed.at(-1)).toBe('pair stopped');
  });
});
