import { describe, expect, it } from 'vitest';
import { benchPairConfig, standbyBaseBytesFor } from '../../../src/bench/bench-config.js';

const MiB = 1048576;

describe('standbyBaseBytesFor', () => {
  it.each([
    [128 * MiB, 96 * MiB],
    [1024 * MiB, 96 * MiB],
    [2048 * MiB, 128 * MiB],
    [3072 * MiB, 128 * MiB],
    [4096 * MiB, 192 * MiB],
  ])('gives a %d-byte app a %d-byte standby base', (appBytes, baseBytes) => {
    expect(standbyBaseBytesFor(appBytes)).toBe(baseBytes);
  });
});

describe('benchPairConfig', () => {
  it('builds one kvd with its slot, disk and a pool of exactly its size', () => {
    const config = benchPairConfig('/state', { appCount: 1, appSizeBytes: 1024 * MiB, baseBytes: 96 * MiB });
    expect(config.apps.map((a) => [a.name, a.slot, a.sizeBytes, a.slotMaxBytes, a.guestPort])).toEqual([
      ['kvd', 'slot0', 1024 * MiB, 1024 * MiB, 7000],
    ]);
    expect(config.budgetBytes).toBe(2 * 96 * MiB + config.monitorBytes + 1024 * MiB);
    expect(config.maxMemoryBytes).toBe(96 * MiB + 1024 * MiB);
    expect(config.apps[0]?.hotStandby).toBe(true);
    expect(config.apps[0]?.diskBytes).toBe(64 * MiB);
  });

  it('gives each of several apps its own name, slot, port and data directory', () => {
    const config = benchPairConfig('/state', { appCount: 3, appSizeBytes: 64 * MiB, baseBytes: 128 * MiB });
    expect(config.apps.map((a) => [a.name, a.slot, a.guestPort, a.argv?.join(' ')])).toEqual([
      ['kvd-0', 'slot0', 7000, '/apps/kvd --port 7000 --data /data/kvd-0'],
      ['kvd-1', 'slot1', 7001, '/apps/kvd --port 7001 --data /data/kvd-1'],
      ['kvd-2', 'slot2', 7002, '/apps/kvd --port 7002 --data /data/kvd-2'],
    ]);
    // A slot is never smaller than the guest's 128 MiB memory block.
    expect(config.apps.every((a) => a.slotMaxBytes === 128 * MiB)).toBe(true);
    expect(config.maxMemoryBytes).toBe(128 * MiB + 3 * 128 * MiB);
  });
});
