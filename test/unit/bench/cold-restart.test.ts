import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withScratchDir } from '../../../src/bench/bench-pair.js';
import { waitForFirstAnswer } from '../../../src/bench/client-probe.js';
import { benchColdRestart, coldRestarts } from '../../../src/bench/cold-restart.js';
import { bootFullSizeVm } from '../../../src/bench/full-size-vm.js';
import type { AppConfig, PairConfig } from '../../../src/pair/config.js';
import { ensureDataDisk } from '../../../src/pair/disk.js';
import { placeApp } from '../../../src/pair/place-app.js';
import type { PairVm } from '../../../src/pair/vm-factory.js';
import { MiB } from '../../../src/units.js';
import { fakeBenchContext } from './fake-bench.js';

vi.mock('../../../src/bench/bench-pair.js', () => ({ withScratchDir: vi.fn() }));
vi.mock('../../../src/bench/client-probe.js', () => ({ waitForFirstAnswer: vi.fn() }));
vi.mock('../../../src/bench/full-size-vm.js', () => ({ bootFullSizeVm: vi.fn() }));
vi.mock('../../../src/pair/disk.js', () => ({
  ensureDataDisk: vi.fn(async (app: string, path: string) => ({ app, path, serial: `baton-${app}` })),
}));
vi.mock('../../../src/pair/place-app.js', () => ({ placeApp: vi.fn(async () => undefined) }));

const events: string[] = [];

function coldVm(run: number, forwarded: string[] = ['kvd', 'redis']): PairVm {
  return {
    forwards: new Map(forwarded.map((app) => [app, 40_000 + run])),
    machine: {
      spec: { name: 'vm-cold' },
      shutdown: async () => {
        events.push(`shutdown ${run}`);
      },
    },
  } as unknown as PairVm;
}

/** Runs launch at 0 and 10000 ms; each boot takes `bootMs[i]`, each first answer comes `appMs[i]` after. */
function scriptTimes(bootMs: number[], appMs: number[]) {
  const now = vi.spyOn(performance, 'now');
  bootMs.forEach((boot, i) => {
    now.mockReturnValueOnce(i * 10_000).mockReturnValueOnce(i * 10_000 + boot);
    vi.mocked(waitForFirstAnswer).mockResolvedValueOnce(i * 10_000 + boot + (appMs[i] ?? 0));
  });
}

beforeEach(() => {
  vi.mocked(withScratchDir).mockImplementation((_ctx, prefix, work) => work(`/nonexistent/${prefix}`));
  let booted = 0;
  vi.mocked(bootFullSizeVm).mockImplementation(async () => {
    booted += 1;
    return coldVm(booted);
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.resetAllMocks();
  events.length = 0;
});

describe('benchColdRestart', () => {
  it('times each run from launch: boot to agent, then placed and answering PONG on its forward', async () => {
    scriptTimes([2000, 3000], [500, 400]);
    const ctx = fakeBenchContext();
    const figures = await benchColdRestart(ctx, 2);
    expect(figures).toEqual({
      appSizeBytes: 128 * MiB,
      runs: [
        { totalMs: 2500, bootMs: 2000, appMs: 500 },
        { totalMs: 3400, bootMs: 3000, appMs: 400 },
      ],
      totalMs: { median: 2950, min: 2500, max: 3400, runs: 2 },
      bootMs: { median: 2500, min: 2000, max: 3000, runs: 2 },
      appMs: { median: 450, min: 400, max: 500, runs: 2 },
    });
    const config = vi.mocked(bootFullSizeVm).mock.calls[0]?.[1];
    expect(config).toMatchObject({ baseBytes: 96 * MiB, stateDir: '/nonexistent/cold-restart' });
    expect(vi.mocked(bootFullSizeVm).mock.calls.map(([c, , name, role]) => [c, name, role])).toEqual([
      [ctx, 'vm-cold', 'active'],
      [ctx, 'vm-cold', 'active'],
    ]);
    const probes = vi.mocked(waitForFirstAnswer).mock.calls.map(([o]) => o);
    expect(probes.map((o) => [o, o.isRecovered()])).toEqual([
      [expect.objectContaining({ request: 'PING', expected: 'PONG', port: 40_001 }), true],
      [expect.objectContaining({ request: 'PING', expected: 'PONG', port: 40_002 }), true],
    ]);
    expect(vi.mocked(ensureDataDisk)).toHaveBeenCalledTimes(1);
    expect(vi.mocked(placeApp).mock.calls[0]?.[2]).toMatchObject({ diskPortIndex: 0, disk: { app: 'kvd' } });
    expect(events).toEqual(['shutdown 1', 'shutdown 2']);
    expect(ctx.lines).toEqual([
      'cold restart run 1/2 (128 MiB): 2500 ms: boot to agent 2000, kvd placed and answering 500 [TCG]',
      'cold restart run 2/2 (128 MiB): 3400 ms: boot to agent 3000, kvd placed and answering 400 [TCG]',
    ]);
  });
});

describe('coldRestarts', () => {
  const app = { name: 'redis', sizeBytes: 512 * MiB, diskBytes: 64 * MiB } as AppConfig;
  const config = { stateDir: '/nonexistent/state', healthTimeoutMs: 9000 } as unknown as PairConfig;

  it('boots with the given boot for each run and labels the runs its way', async () => {
    scriptTimes([100], [50]);
    const boot = vi.fn(async (run: number) => coldVm(run * 10));
    const ctx = fakeBenchContext();
    const figures = await coldRestarts(ctx, config, app, 1, {
      question: { request: 'GET k', expected: 'VALUE v' },
      label: (run) => `custom ${run}`,
      boot,
    });
    expect(boot).toHaveBeenCalledWith(1);
    expect(vi.mocked(bootFullSizeVm)).not.toHaveBeenCalled();
    expect(figures.appSizeBytes).toBe(512 * MiB);
    expect(ctx.lines[0]).toMatch(
      /^custom 1: 150 ms: boot to agent 100, redis placed and answering 50 \[TCG\]$/,
    );
    expect(vi.mocked(placeApp).mock.calls[0]?.[2]).toMatchObject({ healthTimeoutMs: 9000 });
  });

  it("stops the VM and fails when the app cannot be placed, without a run's figures", async () => {
    scriptTimes([100], [50]);
    vi.mocked(placeApp).mockRejectedValueOnce(new Error('redis never healthy'));
    const ctx = fakeBenchContext();
    const run = coldRestarts(ctx, config, app, 2, {
      question: { request: 'PING', expected: 'PONG' },
      label: String,
    });
    await expect(run).rejects.toThrow('redis never healthy');
    expect(events).toEqual(['shutdown 1']);
    expect(ctx.lines).toEqual([]);
  });

  it('stops the VM and fails, naming both, when the VM forwards no port to the app (instead of probing port 0)', async () => {
    scriptTimes([100], [50]);
    const ctx = fakeBenchContext();
    const run = coldRestarts(ctx, config, app, 1, {
      question: { request: 'PING', expected: 'PONG' },
      label: String,
      boot: async (n) => coldVm(n, ['kvd']),
    });
    await expect(run).rejects.toMatchObject({
      code: 'BENCH_FAILED',
      message: 'Benchmark cold restart failed: vm-cold forwards no host port to redis',
    });
    expect(vi.mocked(placeApp)).not.toHaveBeenCalled();
    expect(vi.mocked(waitForFirstAnswer)).not.toHaveBeenCalled();
    expect(events).toEqual(['shutdown 1']);
  });

  it('refuses an app without a data disk before booting anything', async () => {
    const { diskBytes: _diskBytes, ...noDisk } = app;
    const run = coldRestarts(fakeBenchContext(), config, noDisk, 1, {
      question: { request: 'PING', expected: 'PONG' },
      label: String,
    });
    await expect(run).rejects.toMatchObject({
      code: 'BENCH_FAILED',
      message: 'Benchmark cold restart failed: redis has no data disk',
    });
    expect(vi.mocked(bootFullSizeVm)).not.toHaveBeenCalled();
  });
});
