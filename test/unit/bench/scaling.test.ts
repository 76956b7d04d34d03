import { afterEach, describe, expect, it, vi } from 'vitest';
import { withPair, withScratchDir } from '../../../src/bench/bench-pair.js';
import { injectWholeVmFault } from '../../../src/bench/faults.js';
import { measureRecovery } from '../../../src/bench/measure-recovery.js';
import { benchAppCountScaling, benchSizeScaling } from '../../../src/bench/scaling.js';
import type { PairConfig } from '../../../src/pair/config.js';
import type { Pair } from '../../../src/pair/pair.js';
import type { FailoverRecord } from '../../../src/state/history.js';
import { GiB, MiB } from '../../../src/units.js';
import { readRssBytes } from '../../../src/vm/host-memory.js';
import { fakeBenchContext } from './fake-bench.js';

vi.mock('../../../src/bench/bench-pair.js', () => ({ withScratchDir: vi.fn(), withPair: vi.fn() }));
vi.mock('../../../src/bench/measure-recovery.js', () => ({ measureRecovery: vi.fn() }));
vi.mock('../../../src/bench/faults.js', () => ({ injectWholeVmFault: vi.fn(async () => undefined) }));
vi.mock('../../../src/vm/host-memory.js', () => ({ readRssBytes: vi.fn(async () => 200 * MiB) }));

const configs: PairConfig[] = [];
vi.mocked(withScratchDir).mockImplementation((_ctx, prefix, work) => work(`/scratch/${prefix}-1`));
vi.mocked(withPair).mockImplementation((_ctx, config, work) => {
  configs.push(config);
  return work({ config, standbyVm: { machine: { pid: 4242 } } } as unknown as Pair);
});
const measure = vi.mocked(measureRecovery);

/** Each measured run answers the next total and a record with the next plug phases. */
function scriptRuns(runs: Array<{ totalMs: number; plugsMs: number[] }>) {
  for (const run of runs)
    measure.mockResolvedValueOnce({
      totalMs: run.totalMs,
      phasesMs: {} as never,
      trigger: 'guest-panic',
      record: { phases: run.plugsMs.map((ms, i) => ({ name: `plug:kvd-${i}`, ms })) } as FailoverRecord,
    });
}

afterEach(() => {
  configs.length = 0;
  measure.mockReset();
  vi.mocked(injectWholeVmFault).mockClear();
});

describe('benchSizeScaling', () => {
  it("summarises each size's recoveries and plugs on a pair with the base that size needs", async () => {
    const ctx = fakeBenchContext();
    scriptRuns([
      { totalMs: 1000, plugsMs: [100] },
      { totalMs: 3000, plugsMs: [300] },
      { totalMs: 2000, plugsMs: [200] },
      { totalMs: 5000, plugsMs: [900] },
      { totalMs: 4000, plugsMs: [700] },
      { totalMs: 6000, plugsMs: [800] },
    ]);
    const points = await benchSizeScaling(ctx, [128 * MiB, 4 * GiB], 3);
    expect(points).toEqual([
      {
        appSizeBytes: 128 * MiB,
        standbyBaseBytes: 96 * MiB,
        totalMs: { median: 2000, min: 1000, max: 3000, runs: 3 },
        plugMs: { median: 200, min: 100, max: 300, runs: 3 },
        standbyRssBytes: 200 * MiB,
      },
      {
        appSizeBytes: 4 * GiB,
        standbyBaseBytes: 192 * MiB,
        totalMs: { median: 5000, min: 4000, max: 6000, runs: 3 },
        plugMs: { median: 800, min: 700, max: 900, runs: 3 },
        standbyRssBytes: 200 * MiB,
      },
    ]);
    expect(configs.map((c) => [c.baseBytes, c.apps.map((a) => a.sizeBytes)])).toEqual([
      [96 * MiB, [128 * MiB]],
      [192 * MiB, [4 * GiB]],
    ]);
    expect(vi.mocked(readRssBytes)).toHaveBeenCalledWith(4242);
    expect(measure.mock.calls.map(([, o]) => [o.kind, o.tag, o.apps])).toEqual([
      ['whole-vm', 'scaling-1', ['kvd']],
      ['whole-vm', 'scaling-2', ['kvd']],
      ['whole-vm', 'scaling-3', ['kvd']],
      ['whole-vm', 'scaling-1', ['kvd']],
      ['whole-vm', 'scaling-2', ['kvd']],
      ['whole-vm', 'scaling-3', ['kvd']],
    ]);
    expect(ctx.lines).toContain(
      'scaling 128 MiB app, 96 MiB base run 2/3: recovery 3000 ms, plug 300 ms [TCG]',
    );
    expect(ctx.lines.filter((l) => l.startsWith('scaling 4 GiB app, 192 MiB base:'))).toHaveLength(1);
  });

  it('injects a guest panic into the pair it measures', async () => {
    scriptRuns([{ totalMs: 1, plugsMs: [1] }]);
    await benchSizeScaling(fakeBenchContext(), [128 * MiB], 1);
    await measure.mock.calls[0]?.[1].inject();
    expect(vi.mocked(injectWholeVmFault)).toHaveBeenCalledWith(
      expect.objectContaining({ config: configs[0] }),
      'guest-panic',
    );
  });

  it("records a failing size with its error's first line and goes on with the next", async () => {
    const ctx = fakeBenchContext();
    measure.mockRejectedValueOnce(new Error('pool exhausted\nstack details'));
    scriptRuns([{ totalMs: 1500, plugsMs: [150] }]);
    const points = await benchSizeScaling(ctx, [3 * GiB, 128 * MiB], 1);
    expect(points[0]).toEqual({
      appSizeBytes: 3 * GiB,
      standbyBaseBytes: 128 * MiB,
      totalMs: { median: 0, min: 0, max: 0, runs: 0 },
      plugMs: { median: 0, min: 0, max: 0, runs: 0 },
      standbyRssBytes: 0,
      error: 'pool exhausted',
    });
    expect(points[1]?.totalMs.median).toBe(1500);
    expect(points[1]?.error).toBeUndefined();
    expect(ctx.lines).toContain('scaling 3 GiB app, 128 MiB base: failed: pool exhausted');
  });
});

describe('benchAppCountScaling', () => {
  it('measures N apps of 128 MiB, sums their plugs per run and leaves out the standby RSS', async () => {
    const ctx = fakeBenchContext();
    scriptRuns([
      { totalMs: 1000, plugsMs: [100] },
      { totalMs: 4000, plugsMs: [100, 150, 200, 250] },
    ]);
    const points = await benchAppCountScaling(ctx, [1, 4], 1);
    expect(points).toEqual([
      {
        apps: 1,
        appSizeBytes: 128 * MiB,
        totalMs: { median: 1000, min: 1000, max: 1000, runs: 1 },
        plugMs: { median: 100, min: 100, max: 100, runs: 1 },
      },
      {
        apps: 4,
        appSizeBytes: 128 * MiB,
        totalMs: { median: 4000, min: 4000, max: 4000, runs: 1 },
        plugMs: { median: 700, min: 700, max: 700, runs: 1 },
      },
    ]);
    expect(configs.map((c) => [c.baseBytes, c.apps.length])).toEqual([
      [128 * MiB, 1],
      [128 * MiB, 4],
    ]);
    expect(measure.mock.calls[1]?.[1].apps).toEqual(['kvd-0', 'kvd-1', 'kvd-2', 'kvd-3']);
    expect(ctx.lines[0]).toMatch(/^scaling 1 app of 128 MiB run 1\/1:/);
    expect(ctx.lines[2]).toMatch(/^scaling 4 apps of 128 MiB run 1\/1:/);
  });

  it('keeps an app count that failed, with its error', async () => {
    measure.mockRejectedValueOnce(new Error('boot failed'));
    const [point] = await benchAppCountScaling(fakeBenchContext(), [8], 2);
    expect(point).toMatchObject({ apps: 8, error: 'boot failed', totalMs: { runs: 0 } });
    expect(point).not.toHaveProperty('standbyRssBytes');
  });
});
