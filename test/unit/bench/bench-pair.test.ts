import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  readPairRssBytes,
  waitForProtected,
  waitUntil,
  withPair,
  withScratchDir,
} from '../../../src/bench/bench-pair.js';
import type { PairConfig } from '../../../src/pair/config.js';
import { Pair } from '../../../src/pair/pair.js';
import { MiB } from '../../../src/units.js';
import { readRssBytes } from '../../../src/vm/host-memory.js';
import { fakeBenchContext } from './fake-bench.js';

vi.mock('../../../src/pair/pair.js', () => ({ Pair: { start: vi.fn() } }));
vi.mock('../../../src/vm/host-memory.js', () => ({ readRssBytes: vi.fn() }));

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'bench-pair-test-'));
});
afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
  vi.clearAllMocks();
});

describe('withScratchDir', () => {
  it('gives a fresh directory under the scratch dir, passable by QEMU, and removes it afterwards', async () => {
    const ctx = { ...fakeBenchContext(), scratchDir: scratch };
    const seen = await withScratchDir(ctx, 'memory', async (dir) => {
      expect(dir.startsWith(join(scratch, 'memory-'))).toBe(true);
      expect((await stat(dir)).mode & 0o011).toBe(0o011);
      return dir;
    });
    expect(await readdir(scratch)).toEqual([]);
    expect(seen).toMatch(/memory-/);
  });

  it('removes the directory when the work fails, and fails with its error', async () => {
    const ctx = { ...fakeBenchContext(), scratchDir: scratch };
    await expect(
      withScratchDir(ctx, 'x', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await readdir(scratch)).toEqual([]);
  });
});

describe('withPair', () => {
  it("starts the pair with the context's accelerator and logger and stops it even when the work fails", async () => {
    const stop = vi.fn(async () => undefined);
    vi.mocked(Pair.start).mockResolvedValue({ stop } as unknown as Pair);
    const ctx = fakeBenchContext();
    const config = { name: 'config' } as unknown as PairConfig;
    expect(await withPair(ctx, config, async () => 42)).toBe(42);
    expect(vi.mocked(Pair.start)).toHaveBeenCalledWith(
      config,
      expect.objectContaining({ accel: 'tcg', log: ctx.log, mechanism: expect.anything() }),
    );
    expect(stop).toHaveBeenCalledTimes(1);
    await expect(
      withPair(ctx, config, async () => {
        throw new Error('measure failed');
      }),
    ).rejects.toThrow('measure failed');
    expect(stop).toHaveBeenCalledTimes(2);
  });
});

describe('waitUntil', () => {
  it("resolves with the probe's first defined value", async () => {
    let calls = 0;
    const value = await waitUntil(() => (++calls === 3 ? 'ready' : undefined), {
      timeoutMs: 5000,
      what: 'x',
      intervalMs: 1,
    });
    expect([value, calls]).toEqual(['ready', 3]);
  });

  it('fails with WAIT_TIMEOUT naming what it waited for and the last value seen', async () => {
    await expect(
      waitUntil(() => undefined, {
        timeoutMs: 30,
        what: 'the record',
        intervalMs: 5,
        lastSeen: () => 'none yet',
      }),
    ).rejects.toMatchObject({
      code: 'WAIT_TIMEOUT',
      message: 'Timed out after 30 ms waiting for the record; last seen: none yet',
    });
  });
});

describe('waitForProtected', () => {
  it('resolves once the pair is protected', async () => {
    const pair = { state: 'degraded' } as { state: string };
    setTimeout(() => {
      pair.state = 'protected';
    }, 20);
    await expect(waitForProtected(pair as unknown as Pair, 5000)).resolves.toBe(true);
  });

  it("times out with the pair's state and blocked reason", async () => {
    const pair = { state: 'blocked', blockedReason: 'no standby image' } as unknown as Pair;
    await expect(waitForProtected(pair, 60)).rejects.toThrow(
      'waiting for the pair to be protected again; last seen: state blocked: no standby image',
    );
  });
});

describe('readPairRssBytes', () => {
  it("keys each QEMU's RSS by name and role; an unreadable one counts 0", async () => {
    vi.mocked(readRssBytes).mockImplementation(async (pid) => (pid === 11 ? 300 * MiB : undefined));
    const pair = {
      roles: { active: 'vm-b', standby: 'vm-a' },
      vms: new Map([
        ['vm-a', { machine: { pid: 11 } }],
        ['vm-b', { machine: { pid: 12 } }],
      ]),
    } as unknown as Pair;
    expect(await readPairRssBytes(pair)).toEqual({ 'vm-a (standby)': 300 * MiB, 'vm-b (active)': 0 });
  });
});
