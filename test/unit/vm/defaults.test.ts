import { describe, expect, it } from 'vitest';
import { defaultImagePaths } from '../../../src/paths.js';
import { buildQemuArgv } from '../../../src/vm/argv.js';
import {
  ACTIVE_BASE_BYTES,
  APP_SLOT_BYTES,
  APP_SLOT_MAX_BYTES,
  defaultPairSpecs,
  STANDBY_BASE_BYTES,
} from '../../../src/vm/defaults.js';

describe('the built-in pair', () => {
  it.each(['kvm', 'tcg'] as const)('is a full active and a tiny standby with an empty slot (%s)', (accel) => {
    const [active, standby] = defaultPairSpecs(accel);
    expect([active?.name, active?.role, active?.accel]).toEqual(['vm-a', 'active', accel]);
    expect([standby?.name, standby?.role, standby?.accel]).toEqual(['vm-b', 'standby', accel]);
    expect(active?.baseMemoryBytes).toBe(ACTIVE_BASE_BYTES);
    expect(standby?.baseMemoryBytes).toBe(STANDBY_BASE_BYTES);
    expect(standby?.baseMemoryBytes).toBeLessThan(active?.baseMemoryBytes ?? 0);
    expect(active?.slots.map((s) => [s.id, s.requestedSizeBytes])).toEqual([['slot0', APP_SLOT_BYTES]]);
    expect(standby?.slots.map((s) => [s.id, s.requestedSizeBytes])).toEqual([['slot0', 0]]);
  });

  it('boots the image `make images` builds', () => {
    for (const spec of defaultPairSpecs('tcg')) {
      expect(spec.kernelPath).toBe(defaultImagePaths().kernelPath);
      expect(spec.initrdPath).toBe(defaultImagePaths().initrdPath);
    }
  });

  it('leaves room under maxmem for base memory and a full slot, with slots a whole number of blocks', () => {
    for (const spec of defaultPairSpecs('tcg')) {
      for (const slot of spec.slots) {
        expect(spec.baseMemoryBytes + slot.maxSizeBytes).toBeLessThanOrEqual(spec.maxMemoryBytes);
        expect(slot.maxSizeBytes % slot.blockSizeBytes).toBe(0);
        expect(slot.requestedSizeBytes % slot.blockSizeBytes).toBe(0);
        expect(slot.requestedSizeBytes).toBeLessThanOrEqual(APP_SLOT_MAX_BYTES);
      }
    }
  });

  it('makes specs the argv builder accepts', () => {
    for (const spec of defaultPairSpecs('tcg'))
      expect(buildQemuArgv({ ...spec, runDir: '/run/baton/x' }).slice(0, 2)).toEqual([
        '-name',
        expect.stringContaining(spec.name),
      ]);
  });
});
