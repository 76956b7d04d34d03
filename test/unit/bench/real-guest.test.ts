import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withPair, withScratchDir } from '../../../src/bench/bench-pair.js';
import { coldRestarts } from '../../../src/bench/cold-restart.js';
import { injectWholeVmFault } from '../../../src/bench/faults.js';
import { bootFullSizeVm } from '../../../src/bench/full-size-vm.js';
import { measureRecovery } from '../../../src/bench/measure-recovery.js';
import { benchRealGuest } from '../../../src/bench/real-guest.js';
import type { ColdRestartFigures, RealGuestFigures } from '../../../src/bench/report.js';
import { loadExamplePair } from '../../../src/config/example.js';
import type { AppConfig, PairConfig } from '../../../src/pair/config.js';
import type { Pair } from '../../../src/pair/pair.js';
import type { PairVm } from '../../../src/pair/vm-factory.js';
import { connectRedis } from '../../../src/traffic/redis.js';
import { MiB } from '../../../src/units.js';
import { phaseTimes } from '../../fixtures/bench/sample-report.js';
import { fakeBenchContext } from './fake-bench.js';

vi.mock('../../../src/config/example.js', async (actual) => ({
  ...(await actual<typeof import('../../../src/config/example.js')>()),
  loadExamplePair: vi.fn(),
}));
vi.mock('../../../src/bench/bench-pair.js', () => ({ withScratchDir: vi.fn(), withPair: vi.fn() }));
vi.mock('../../../src/bench/measure-recovery.js', () => ({ measureRecovery: vi.fn() }));
vi.mock('../../../src/bench/cold-restart.js', () => ({ coldRestarts: vi.fn() }));
vi.mock('../../../src/bench/full-size-vm.js', () => ({ bootFullSizeVm: vi.fn() }));
vi.mock('../../../src/bench/faults.js', async (actual) => ({
  ...(await actual<typeof import('../../../src/bench/faults.js')>()),
  injectWholeVmFault: vi.fn(async () => undefined),
}));
vi.mock('../../../src/traffic/redis.js', () => ({ connectRedis: vi.fn() }));
vi.mock('../../../src/vm/host-memory.js', () => ({ readRssBytes: vi.fn(async () => 300 * MiB) }));

const redis = { name: 'redis', hotStandby: true, sizeBytes: 512 * MiB } as AppConfig;
const config = {
  baseBytes: 256 * MiB,
  helloTimeoutMs: 60_000,
  stateDir: '/nonexistent/state',
  apps: [{ name: 'web', hotStandby: false, sizeBytes: 64 * MiB } as AppConfig, redis],
} as unknown as PairConfig;
const pair = {
  activeVm: { hello: { kernelRelease: '6.1.0-28-amd64' } },
  standbyVm: { machine: { pid: 77 } },
  endpointPort: (app: string) => (app === 'redis' ? 16379 : 0),
} as unknown as Pair;
const coldFigures = { appSizeBytes: 512 * MiB, runs: [] } as unknown as ColdRestartFigures;

/** The keys the Redis stand-in was asked to write; it refuses `refusedKey`. */
function scriptRedis(refusedKey?: number) {
  const written: number[] = [];
  let closed = 0;
  vi.mocked(connectRedis).mockImplementation(async () => ({
    write: async (n) => {
      written.push(n);
      return n !== refusedKey;
    },
    read: async () => true,
    close: () => {
      closed += 1;
    },
  }));
  return { written, closed: () => closed };
}

beforeEach(() => {
  vi.mocked(loadExamplePair).mockResolvedValue(config);
  vi.mocked(withScratchDir).mockImplementation((_ctx, _prefix, work) => work('/nonexistent/real-guest'));
  vi.mocked(withPair).mockImplementation((_ctx, _config, work) => work(pair));
  vi.mocked(coldRestarts).mockResolvedValue(coldFigures);
  let run = 0;
  vi.mocked(measureRecovery).mockImplementation(async () => {
    run += 1;
    return {
      totalMs: 1000 * run,
      phasesMs: phaseTimes({ detect: 100 * run }),
      trigger: 'guest-panic',
      record: {} as never,
    };
  });
});

afterEach(() => {
  vi.clearAllMocks();
  vi.useRealTimers();
});

describe('benchRealGuest', () => {
  it('preloads keys, measures guest panics of the hot-standby app, then cold restarts, updating after each part', async () => {
    const ctx = fakeBenchContext();
    const redisWrites = scriptRedis();
    const updates: RealGuestFigures[] = [];
    await benchRealGuest(ctx, 2, (figures) => updates.push(figures));
    expect(redisWrites.written).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(redisWrites.closed()).toBe(1);
    expect(vi.mocked(withPair).mock.calls[0]?.[1]).toBe(config);
    const options = vi.mocked(measureRecovery).mock.calls.map(([, o]) => o);
    expect(options.map((o) => [o.apps, o.kind, o.tag, o.client?.key, o.protectedTimeoutMs])).toEqual([
      [['redis'], 'whole-vm', 'real-guest-1', 21, 180_000],
      [['redis'], 'whole-vm', 'real-guest-2', 22, 180_000],
    ]);
    await options[0]?.inject();
    expect(vi.mocked(injectWholeVmFault)).toHaveBeenCalledWith(pair, 'guest-panic');
    expect(updates).toHaveLength(2);
    expect(updates[0]).toMatchObject({
      config: 'contrib/examples/redis.yaml',
      app: 'redis',
      appSizeBytes: 512 * MiB,
      standbyBaseBytes: 256 * MiB,
      kernelRelease: '6.1.0-28-amd64',
      standbyRssBytes: 300 * MiB,
      recovery: { scenario: 'guest-panic', kind: 'whole-vm', totalMs: { median: 1500, runs: 2 } },
    });
    expect(updates[0]?.coldRestart).toBeUndefined();
    expect(updates[1]?.coldRestart).toBe(coldFigures);
    expect(ctx.lines).toContain(
      'real guest, guest panic run 2/2: 2000 ms: detect 200, fence 0, disk 0, plug 0, confirm 0, start 0, healthy 0, route 0 [TCG]',
    );
  });

  it('cold-restarts Redis on the same config and app, booting a fresh full-size VM with the Redis client as question', async () => {
    scriptRedis();
    await benchRealGuest(fakeBenchContext(), 3, () => undefined);
    const [ctx, cfg, app, runs, options] = vi.mocked(coldRestarts).mock.calls[0] ?? [];
    expect([cfg, app, runs]).toEqual([config, redis, 3]);
    expect(options?.question).toEqual({ connect: connectRedis, key: 0 });
    expect(options?.label(2)).toBe('real guest, cold restart run 2/3');
    const vm = {} as PairVm;
    vi.mocked(bootFullSizeVm).mockResolvedValue(vm);
    expect(await options?.boot?.(1)).toBe(vm);
    expect(vi.mocked(bootFullSizeVm)).toHaveBeenCalledWith(ctx, config, 'vm-cold', 'active');
  });

  it('says every 10 s that the Debian pair is still running', async () => {
    vi.useFakeTimers();
    scriptRedis();
    const ctx = fakeBenchContext();
    vi.mocked(withPair).mockImplementation(async (_ctx, _config, work) => {
      await vi.advanceTimersByTimeAsync(25_000);
      return work(pair);
    });
    await benchRealGuest(ctx, 1, () => undefined);
    expect(ctx.lines.filter((l) => l.startsWith('real guest: the Debian pair ... '))).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(ctx.lines.filter((l) => l.startsWith('real guest: the Debian pair ... '))).toHaveLength(2);
  });

  it('fails when the example has no hot-standby app, before starting anything', async () => {
    vi.mocked(loadExamplePair).mockResolvedValue({ ...config, apps: [config.apps[0] as AppConfig] });
    const updates: RealGuestFigures[] = [];
    await expect(benchRealGuest(fakeBenchContext(), 1, (f) => updates.push(f))).rejects.toMatchObject({
      code: 'BENCH_FAILED',
      message: expect.stringMatching(/redis\.yaml has no hot-standby app$/),
    });
    expect(vi.mocked(withPair)).not.toHaveBeenCalled();
    expect(updates).toEqual([]);
  });

  it('fails when Redis does not acknowledge a preloaded key, without measuring or updating', async () => {
    const redisWrites = scriptRedis(7);
    const updates: RealGuestFigures[] = [];
    await expect(benchRealGuest(fakeBenchContext(), 1, (f) => updates.push(f))).rejects.toThrow(
      'Benchmark real guest failed: Redis did not acknowledge key 7',
    );
    expect(redisWrites.closed()).toBe(1);
    expect(vi.mocked(measureRecovery)).not.toHaveBeenCalled();
    expect(updates).toEqual([]);
  });
});
