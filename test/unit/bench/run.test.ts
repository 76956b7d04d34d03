import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { benchColdRestart } from '../../../src/bench/cold-restart.js';
import { readMachineInfo } from '../../../src/bench/machine-info.js';
import { benchMemory } from '../../../src/bench/memory.js';
import { measurePairLoad, measureProcessLoad, measureQmpRoundTrip } from '../../../src/bench/overhead.js';
import { benchRealGuest } from '../../../src/bench/real-guest.js';
import { benchRecovery } from '../../../src/bench/recovery.js';
import type { BenchReport } from '../../../src/bench/report.js';
import { type BenchOptions, runBench } from '../../../src/bench/run.js';
import {
  benchAppCountScaling,
  benchSizeScaling,
  QUICK_SCALING_APP_COUNTS,
  QUICK_SCALING_SIZES_BYTES,
  SCALING_SIZES_BYTES,
} from '../../../src/bench/scaling.js';
import { BENCH_SECTIONS } from '../../../src/bench/sections.js';
import { writeReport } from '../../../src/bench/write-report.js';
import { createSilentLogger } from '../../../src/log.js';
import type { Pair } from '../../../src/pair/pair.js';
import { freshScratchDir } from '../../../src/recovery/scratch-sweep.js';
import { MiB } from '../../../src/units.js';
import { resolveAccel } from '../../../src/vm/host-accel.js';
import { sampleReport } from '../../fixtures/bench/sample-report.js';

vi.mock('../../../src/vm/host-accel.js', () => ({ resolveAccel: vi.fn() }));
vi.mock('../../../src/recovery/scratch-sweep.js', () => ({ freshScratchDir: vi.fn() }));
vi.mock('../../../src/bench/machine-info.js', () => ({ readMachineInfo: vi.fn() }));
vi.mock('../../../src/bench/recovery.js', async (actual) => ({
  ...(await actual<typeof import('../../../src/bench/recovery.js')>()),
  benchRecovery: vi.fn(),
}));
vi.mock('../../../src/bench/cold-restart.js', () => ({ benchColdRestart: vi.fn() }));
vi.mock('../../../src/bench/memory.js', () => ({ benchMemory: vi.fn() }));
vi.mock('../../../src/bench/overhead.js', () => ({
  measureProcessLoad: vi.fn(),
  measurePairLoad: vi.fn(),
  measureQmpRoundTrip: vi.fn(),
}));
vi.mock('../../../src/bench/real-guest.js', () => ({ benchRealGuest: vi.fn() }));
vi.mock('../../../src/bench/scaling.js', async (actual) => ({
  ...(await actual<typeof import('../../../src/bench/scaling.js')>()),
  benchSizeScaling: vi.fn(async () => []),
  benchAppCountScaling: vi.fn(async () => []),
}));
vi.mock('../../../src/bench/write-report.js', async (actual) => ({
  ...(await actual<typeof import('../../../src/bench/write-report.js')>()),
  writeReport: vi.fn(),
}));

const sample = sampleReport();
/** Each report written, as it was at the time. */
const saved: BenchReport[] = [];
let removed = 0;

function options(fields: Partial<BenchOptions>): BenchOptions & { lines: string[] } {
  const lines: string[] = [];
  return {
    runs: 3,
    scalingRuns: 2,
    isQuick: false,
    sections: [],
    outDir: '/nonexistent/out',
    accel: 'auto',
    command: 'baton bench',
    log: createSilentLogger(),
    progress: (line) => lines.push(line),
    lines,
    ...fields,
  };
}

beforeEach(() => {
  vi.mocked(resolveAccel).mockResolvedValue({ accel: 'tcg', reason: 'no /dev/kvm' });
  vi.mocked(freshScratchDir).mockResolvedValue({
    dir: '/nonexistent/scratch',
    remove: async () => {
      removed += 1;
    },
  });
  vi.mocked(readMachineInfo).mockResolvedValue(sample.machine);
  vi.mocked(measureProcessLoad).mockResolvedValue({ rssBytes: 60 * MiB, cpuPercent: 0.5 });
  vi.mocked(writeReport).mockImplementation(async (report, outDir, stamp) => {
    saved.push(structuredClone(report));
    return { jsonPath: `${outDir}/${stamp}.json`, markdownPath: 'md', svgPath: 'svg' };
  });
});

afterEach(() => {
  vi.clearAllMocks();
  saved.length = 0;
  removed = 0;
});

describe('runBench', () => {
  it('runs only the selected sections and writes the report before, after each and at the end', async () => {
    const opts = options({ sections: ['scaling-size'], isQuick: true });
    const { report, paths } = await runBench(opts);
    expect(vi.mocked(benchSizeScaling)).toHaveBeenCalledWith(
      expect.objectContaining({ accel: 'tcg', scratchDir: '/nonexistent/scratch' }),
      QUICK_SCALING_SIZES_BYTES,
      2,
    );
    for (const other of [benchRecovery, benchColdRestart, benchMemory, benchRealGuest, benchAppCountScaling])
      expect(vi.mocked(other)).not.toHaveBeenCalled();
    expect(saved).toHaveLength(3);
    expect(saved[0]?.finishedAt).toBeUndefined();
    expect(saved[2]?.finishedAt).toBeDefined();
    expect(paths.jsonPath).toMatch(/^\/nonexistent\/out\/\d{4}-\d\d-\d\d-\d{4}\.json$/);
    expect(report).toMatchObject({
      schemaVersion: 1,
      command: 'baton bench',
      accel: { accel: 'tcg', reason: 'no /dev/kvm' },
      runsPerScenario: 3,
      scalingRuns: 2,
      isQuick: true,
      errors: [],
    });
    expect(removed).toBe(1);
    expect(opts.lines[0]).toBe('accelerator: TCG (no /dev/kvm)');
  });

  it('runs the full scaling points and app counts when not quick', async () => {
    await runBench(options({ sections: ['scaling-size', 'scaling-apps'] }));
    expect(vi.mocked(benchSizeScaling).mock.calls[0]?.[1]).toBe(SCALING_SIZES_BYTES);
    expect(vi.mocked(benchAppCountScaling).mock.calls[0]?.[1]).toEqual([1, 2, 4, 8]);
    await runBench(options({ sections: ['scaling-apps'], isQuick: true }));
    expect(vi.mocked(benchAppCountScaling).mock.calls[1]?.[1]).toBe(QUICK_SCALING_APP_COUNTS);
  });

  it("records a failing scenario's first error line and still runs the others", async () => {
    vi.mocked(benchRecovery).mockImplementation(async (_ctx, scenario) => {
      if (scenario === 'qemu-killed') throw new Error('pair never protected\nmore detail');
      return { ...(sample.recovery[0] as BenchReport['recovery'][number]), scenario };
    });
    const opts = options({ sections: ['recovery'] });
    const { report } = await runBench(opts);
    expect(vi.mocked(benchRecovery).mock.calls.map(([, s, runs]) => `${s} ${runs}`)).toEqual([
      'guest-panic 3',
      'app-crash-loop 3',
      'qemu-killed 3',
      'guest-hang 3',
    ]);
    expect(report.recovery.map((r) => r.scenario)).toEqual(['guest-panic', 'app-crash-loop', 'guest-hang']);
    expect(report.errors).toEqual([{ section: 'recovery qemu-killed', message: 'pair never protected' }]);
    expect(opts.lines).toContain('recovery qemu-killed: not measured: pair never protected');
    expect(saved).toHaveLength(6);
    expect(saved[3]?.errors).toHaveLength(1);
  });

  it('measures the overhead while the memory baseline holds its pair, with the window and calls of the mode', async () => {
    const pair = { name: 'pair' } as unknown as Pair;
    vi.mocked(benchMemory).mockImplementation(async (_ctx, whilePairRuns) => {
      await whilePairRuns?.(pair);
      return sample.memory as NonNullable<BenchReport['memory']>;
    });
    vi.mocked(benchColdRestart).mockResolvedValue(
      sample.coldRestart as NonNullable<BenchReport['coldRestart']>,
    );
    vi.mocked(measurePairLoad).mockResolvedValue({
      rssBytes: 80 * MiB,
      cpuPercent: 2.5,
      qemuCpuPercent: { 'vm-a': 9 },
    });
    vi.mocked(measureQmpRoundTrip).mockResolvedValue({ median: 0.4, min: 0.2, max: 3, runs: 50, p99: 2 });
    const opts = options({ sections: ['baselines'], isQuick: true });
    const { report } = await runBench(opts);
    expect(vi.mocked(measureProcessLoad)).toHaveBeenCalledWith(3000);
    expect(vi.mocked(measurePairLoad)).toHaveBeenCalledWith(pair, 3000);
    expect(vi.mocked(measureQmpRoundTrip)).toHaveBeenCalledWith(pair, 50);
    expect(vi.mocked(benchColdRestart).mock.calls[0]?.[1]).toBe(3);
    expect(report.overhead).toEqual({
      windowMs: 3000,
      idle: { rssBytes: 60 * MiB, cpuPercent: 0.5 },
      heartbeats: { rssBytes: 80 * MiB, cpuPercent: 2.5, qemuCpuPercent: { 'vm-a': 9 } },
      qmpRoundTripMs: { median: 0.4, min: 0.2, max: 3, runs: 50, p99: 2 },
    });
    expect(report.coldRestart).toBe(sample.coldRestart);
    expect(report.memory).toBe(sample.memory);
    expect(opts.lines).toContain(
      'overhead: monitor idle RSS 60 MiB CPU 0.5%; with the pair RSS 80 MiB CPU 2.5%; QMP query-status median 0.4 ms, p99 2 ms [TCG]',
    );
  });

  it('uses a 10 s window and 500 QMP calls in a full run', async () => {
    vi.mocked(benchMemory).mockImplementation(async (_ctx, whilePairRuns) => {
      await whilePairRuns?.({} as Pair);
      return sample.memory as NonNullable<BenchReport['memory']>;
    });
    await runBench(options({ sections: ['baselines'] }));
    expect(vi.mocked(measureProcessLoad)).toHaveBeenCalledWith(10_000);
    expect(vi.mocked(measureQmpRoundTrip).mock.calls[0]?.[1]).toBe(500);
  });

  it("keeps the real guest's figures from its last update even when it fails afterwards", async () => {
    const partial = {
      config: 'contrib/examples/redis.yaml',
      app: 'redis',
      appSizeBytes: MiB,
      standbyBaseBytes: MiB,
    };
    vi.mocked(benchRealGuest).mockImplementation(async (_ctx, runs, update) => {
      expect(runs).toBe(3);
      update(partial);
      throw new Error('cold restart failed');
    });
    const { report } = await runBench(options({ sections: ['real-guest'] }));
    expect(report.realGuest).toEqual(partial);
    expect(report.errors).toEqual([{ section: 'real guest', message: 'cold restart failed' }]);
  });

  it('computes the ratios from the figures each time it saves', async () => {
    vi.mocked(benchColdRestart).mockResolvedValue(
      sample.coldRestart as NonNullable<BenchReport['coldRestart']>,
    );
    vi.mocked(benchMemory).mockResolvedValue(sample.memory as NonNullable<BenchReport['memory']>);
    vi.mocked(benchRecovery).mockImplementation(async (_ctx, scenario) => ({
      ...(sample.recovery[0] as BenchReport['recovery'][number]),
      scenario,
    }));
    const { report } = await runBench(options({ sections: [...BENCH_SECTIONS] }));
    expect(report.ratios.recoveryVsColdRestart).toBeGreaterThan(0);
    expect(report.ratios.pairRssVsStaticStandby).toBeGreaterThan(0);
    expect(saved[0]?.ratios).toEqual({});
  });

  it('stops, writes the report and removes the scratch folder when the idle measurement fails', async () => {
    vi.mocked(measureProcessLoad).mockRejectedValue(new Error('no /proc'));
    await expect(runBench(options({ sections: ['recovery'] }))).rejects.toThrow('no /proc');
    expect(vi.mocked(benchRecovery)).not.toHaveBeenCalled();
    expect(saved.at(-1)?.finishedAt).toBeDefined();
    expect(removed).toBe(1);
  });

  it('removes the scratch folder when the report cannot be written', async () => {
    vi.mocked(writeReport).mockRejectedValue(new Error('EACCES: /nonexistent/out'));
    await expect(runBench(options({ sections: ['recovery'] }))).rejects.toThrow('EACCES');
    expect(removed).toBe(1);
  });

  it('removes the scratch folder when the final save fails', async () => {
    vi.mocked(writeReport)
      .mockResolvedValueOnce({ jsonPath: 'j', markdownPath: 'm', svgPath: 's' })
      .mockRejectedValueOnce(new Error('ENOSPC'));
    await expect(runBench(options({ sections: [] }))).rejects.toThrow('ENOSPC');
    expect(removed).toBe(1);
  });
});
