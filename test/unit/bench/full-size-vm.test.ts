import { describe, expect, it, vi } from 'vitest';
import { bootFullSizeVm, givenBytesOf } from '../../../src/bench/full-size-vm.js';
import type { AppConfig, PairConfig } from '../../../src/pair/config.js';
import { bootPairVm, type PairVm } from '../../../src/pair/vm-factory.js';
import { MiB } from '../../../src/units.js';
import { fakeBenchContext } from './fake-bench.js';

vi.mock('../../../src/pair/vm-factory.js', () => ({ bootPairVm: vi.fn() }));

const config = {
  baseBytes: 96 * MiB,
  apps: [{ sizeBytes: 128 * MiB } as AppConfig, { sizeBytes: 512 * MiB } as AppConfig],
} as unknown as PairConfig;

describe('givenBytesOf', () => {
  it("is the base plus every app's size", () => {
    expect(givenBytesOf(config)).toBe(736 * MiB);
    expect(givenBytesOf({ ...config, apps: [] })).toBe(96 * MiB);
  });
});

describe('bootFullSizeVm', () => {
  it("boots a pair VM with every slot plugged at boot, on the context's accelerator and logger", async () => {
    const vm = {} as PairVm;
    vi.mocked(bootPairVm).mockResolvedValue(vm);
    const ctx = fakeBenchContext();
    expect(await bootFullSizeVm(ctx, config, 'vm-cold', 'active')).toBe(vm);
    expect(vi.mocked(bootPairVm)).toHaveBeenCalledWith(config, 'vm-cold', 'active', {
      accel: 'tcg',
      log: ctx.log,
      isPluggedAtBoot: true,
    });
  });
});
