import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readPairRssBytes, withPair, withScratchDir } from '../../../src/bench/bench-pair.js';
import { bootFullSizeVm } from '../../../src/bench/full-size-vm.js';
import { benchMemory } from '../../../src/bench/memory.js';
import type { PairConfig } from '../../../src/pair/config.js';
import { ensureDataDisk } from '../../../src/pair/disk.js';
import type { Pair } from '../../../src/pair/pair.js';
import { placeApp } from '../../../src/pair/place-app.js';
import type { PairVm } from '../../../src/pair/vm-factory.js';
import { MiB } from '../../../src/units.js';
import { readRssBytes } from '../../../src/vm/host-memory.js';
import { fakeBenchContext } from './fake-bench.js';

vi.mock('../../../src/bench/bench-pair.js', () => ({
  withScratchDir: vi.fn(),
  withPair: vi.fn(),
  readPairRssBytes: vi.fn(),
  sleepMs: vi.fn(async () => undefined),
}));
vi.mock('../../../src/bench/full-size-vm.js', async (actual) => ({
  ...(await actual<typeof import('../../../src/bench/full-size-vm.js')>()),
  bootFullSizeVm: vi.fn(),
}));
vi.mock('../../../src/pair/disk.js', () => ({
  ensureDataDisk: vi.fn(async (app: string, path: string) => ({ app, path, serial: `baton-${app}` })),
}));
vi.mock('../../../src/pair/place-app.js', () => ({ placeApp: vi.fn(async () => undefined) }));
vi.mock('../../../src/vm/host-memory.js', () => ({ readRssBytes: vi.fn() }));

const pair = { name: 'the pair' } as unknown as Pair;
const configs: PairConfig[] = [];

/** A full-size VM stand-in whose QEMU has pid `pid` and records its shutdown in `events`. */
function fullSizeVm(name: string, role: string, pid: number, events: string[]): PairVm {
  return {
    machine: {
      pid,
      spec: { name, role },
      shutdown: async () => {
        events.push(`shutdown ${name}`);
      },
    },
  } as unknown as PairVm;
}

beforeEach(() => {
  vi.spyOn(process, 'memoryUsage').mockReturnValue({ rss: 50 * MiB } as NodeJS.MemoryUsage);
  vi.mocked(withScratchDir).mockImplementation((_ctx, prefix, work) => work(`/nonexistent/${prefix}`));
  vi.mocked(withPair).mockImplementation((_ctx, config, work) => {
    configs.push(config);
    return work(pair);
  });
  vi.mocked(readPairRssBytes).mockResolvedValue({ 'vm-a (active)': 300 * MiB, 'vm-b (standby)': 100 * MiB });
  vi.mocked(readRssBytes).mockImplementation(async (pid) => (pid === 11 ? 400 * MiB : 380 * MiB));
});

afterEach(() => {
  vi.clearAllMocks();
  vi.restoreAllMocks();
  configs.length = 0;
});

describe('benchMemory', () => {
  it("sums the pair's QEMU RSS and this process's, against what the pair gives its guests", async () => {
    const events: string[] = [];
    vi.mocked(bootFullSizeVm).mockImplementation(async (_ctx, _config, name, role) =>
      fullSizeVm(name, role, name === 'vm-a' ? 11 : 12, events),
    );
    const seen: Pair[] = [];
    const ctx = fakeBenchContext();
    const memory = await benchMemory(ctx, async (p) => {
      seen.push(p);
    });
    expect(seen).toEqual([pair]);
    expect(configs[0]).toMatchObject({ baseBytes: 96 * MiB, apps: [{ name: 'kvd', sizeBytes: 128 * MiB }] });
    expect(memory.appSizeBytes).toBe(128 * MiB);
    expect(memory.baton).toEqual({
      qemuRssBytes: { 'vm-a (active)': 300 * MiB, 'vm-b (standby)': 100 * MiB },
      processRssBytes: 50 * MiB,
      totalRssBytes: 450 * MiB,
      guestGivenBytes: 320 * MiB,
    });
    expect(ctx.lines[0]).toBe(
      "memory, baton's pair: QEMU RSS vm-a (active) 300 MiB, vm-b (standby) 100 MiB; process 50 MiB; total RSS 450 MiB; given to guests 320 MiB [TCG]",
    );
  });

  it('boots two full-size VMs for the static standby, places the app on the active one and stops both', async () => {
    const events: string[] = [];
    vi.mocked(bootFullSizeVm).mockImplementation(async (_ctx, _config, name, role) =>
      fullSizeVm(name, role, name === 'vm-a' ? 11 : 12, events),
    );
    const memory = await benchMemory(fakeBenchContext());
    expect(vi.mocked(bootFullSizeVm).mock.calls.map(([, , name, role]) => `${name} ${role}`)).toEqual([
      'vm-a active',
      'vm-b standby',
    ]);
    const [placedOn, app, options] = vi.mocked(placeApp).mock.calls[0] ?? [];
    expect(placedOn?.machine.spec.name).toBe('vm-a');
    expect(app?.name).toBe('kvd');
    expect(options?.disk).toMatchObject({
      app: 'kvd',
      path: expect.stringMatching(/^\/nonexistent\/memory-static\//),
    });
    expect(vi.mocked(ensureDataDisk)).toHaveBeenCalledWith('kvd', expect.any(String), 64 * MiB);
    expect(memory.staticStandby).toEqual({
      qemuRssBytes: { 'vm-a (active)': 400 * MiB, 'vm-b (standby)': 380 * MiB },
      processRssBytes: 50 * MiB,
      totalRssBytes: 830 * MiB,
      guestGivenBytes: 448 * MiB,
    });
    expect(events.sort()).toEqual(['shutdown vm-a', 'shutdown vm-b']);
  });

  it('stops the VM that booted when the other fails, and fails with that error', async () => {
    const events: string[] = [];
    vi.mocked(bootFullSizeVm).mockImplementation(async (_ctx, _config, name, role) => {
      if (name === 'vm-b') throw new Error('vm-b: no hello within 60000 ms');
      return fullSizeVm(name, role, 11, events);
    });
    await expect(benchMemory(fakeBenchContext())).rejects.toThrow('vm-b: no hello within 60000 ms');
    expect(events).toEqual(['shutdown vm-a']);
    expect(vi.mocked(placeApp)).not.toHaveBeenCalled();
  });

  it('stops both VMs when placing the app fails', async () => {
    const events: string[] = [];
    vi.mocked(bootFullSizeVm).mockImplementation(async (_ctx, _config, name, role) =>
      fullSizeVm(name, role, 11, events),
    );
    vi.mocked(placeApp).mockRejectedValueOnce(new Error('kvd never healthy'));
    await expect(benchMemory(fakeBenchContext())).rejects.toThrow('kvd never healthy');
    expect(events.sort()).toEqual(['shutdown vm-a', 'shutdown vm-b']);
  });
});
