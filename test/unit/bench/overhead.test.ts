import { afterEach, describe, expect, it, vi } from 'vitest';
import { sleepMs } from '../../../src/bench/bench-pair.js';
import { measurePairLoad, measureProcessLoad, measureQmpRoundTrip } from '../../../src/bench/overhead.js';
import { readProcessCpuTicks } from '../../../src/detect/process-cpu.js';
import type { Pair } from '../../../src/pair/pair.js';
import { queryStatus } from '../../../src/qmp/commands.js';
import { MiB } from '../../../src/units.js';

vi.mock('../../../src/bench/bench-pair.js', () => ({ sleepMs: vi.fn(async () => undefined) }));
vi.mock('../../../src/detect/process-cpu.js', () => ({ readProcessCpuTicks: vi.fn() }));
vi.mock('../../../src/qmp/commands.js', () => ({ queryStatus: vi.fn(async () => ({ status: 'running' })) }));

/** performance.now() answers these values in turn. */
function clockReads(...valuesMs: number[]) {
  const now = vi.spyOn(performance, 'now');
  for (const value of valuesMs) now.mockReturnValueOnce(value);
}

function cpuUsed(userUs: number, systemUs: number) {
  vi.spyOn(process, 'cpuUsage').mockReturnValue({ user: userUs, system: systemUs });
  vi.spyOn(process, 'memoryUsage').mockReturnValue({ rss: 70 * MiB } as NodeJS.MemoryUsage);
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.clearAllMocks();
});

describe('measureProcessLoad', () => {
  it("gives the RSS and the CPU used over the window's measured length, in % of one core", async () => {
    cpuUsed(150_000, 50_000);
    clockReads(1000, 2000);
    expect(await measureProcessLoad(1000)).toEqual({ rssBytes: 70 * MiB, cpuPercent: 20 });
    expect(vi.mocked(sleepMs)).toHaveBeenCalledWith(1000);
  });

  it('divides by the time that really passed, not the window asked for', async () => {
    cpuUsed(33_333, 0);
    clockReads(0, 3000);
    expect((await measureProcessLoad(1000)).cpuPercent).toBe(1.1);
  });
});

describe('measurePairLoad', () => {
  it("gives each QEMU's CPU from its /proc ticks over the same window", async () => {
    cpuUsed(10_000, 10_000);
    clockReads(0, 0, 2000, 2000);
    const ticks = new Map([
      [11, [100, 150]],
      [12, [10, 12]],
    ]);
    vi.mocked(readProcessCpuTicks).mockImplementation(async (pid) => ticks.get(pid)?.shift());
    const pair = {
      vms: new Map([
        ['vm-a', { machine: { pid: 11, spec: { name: 'vm-a' } } }],
        ['vm-b', { machine: { pid: 12, spec: { name: 'vm-b' } } }],
      ]),
    } as unknown as Pair;
    expect(await measurePairLoad(pair, 2000)).toEqual({
      rssBytes: 70 * MiB,
      cpuPercent: 1,
      qemuCpuPercent: { 'vm-a': 25, 'vm-b': 1 },
    });
  });

  it('leaves out a QEMU whose ticks cannot be read before or after the window, rather than guess', async () => {
    cpuUsed(0, 0);
    clockReads(0, 0, 1000, 1000);
    const ticks = new Map([
      [11, [undefined, undefined]],
      [12, [undefined, 500]],
      [13, [40, undefined]],
      [14, [40, 45]],
    ]);
    vi.mocked(readProcessCpuTicks).mockImplementation(async (pid) => ticks.get(pid)?.shift());
    const vm = (pid: number, name: string) => [name, { machine: { pid, spec: { name } } }] as const;
    const pair = {
      vms: new Map([vm(11, 'vm-a'), vm(12, 'vm-b'), vm(13, 'vm-c'), vm(14, 'vm-d')]),
    } as unknown as Pair;
    expect((await measurePairLoad(pair, 1000)).qemuCpuPercent).toEqual({ 'vm-d': 5 });
  });
});

describe('measureQmpRoundTrip', () => {
  it('times each query-status to the active QEMU: median and spread of 0.01 ms times, p99 of the raw ones', async () => {
    const qmp = { name: 'qmp of vm-a' };
    clockReads(0, 1.234, 10, 12, 20, 20.5, 30, 33.04);
    const figures = await measureQmpRoundTrip({ activeVm: { machine: { qmp } } } as unknown as Pair, 4);
    expect(vi.mocked(queryStatus).mock.calls).toEqual([[qmp], [qmp], [qmp], [qmp]]);
    expect(figures).toEqual({ median: 1.6, min: 0.5, max: 3, runs: 4, p99: 3 });
  });

  it('fails with BENCH_FAILED when the pair has no active VM', async () => {
    await expect(measureQmpRoundTrip({ activeVm: undefined } as unknown as Pair, 5)).rejects.toMatchObject({
      code: 'BENCH_FAILED',
      message: 'Benchmark QMP round trip failed: the pair has no active VM to query',
    });
    expect(vi.mocked(queryStatus)).not.toHaveBeenCalled();
  });
});
