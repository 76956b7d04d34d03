import { describe, expect, it } from 'vitest';
import { MemoryStuckError, WaitTimeoutError } from '../../../src/errors.js';
import { VirtioMemMechanism } from '../../../src/memory/virtio-mem.js';
import { MiB } from '../../../src/units.js';
import { device, jumpingClock, startVm } from './fixtures.js';

describe('waiting for a slot to reach its size', () => {
  it('throws MemoryStuckError with the sizes and times when the size stops moving', async () => {
    const { peer, vm } = await startVm([device('vmem-slot0', { stallAtBytes: 128 * MiB })]);
    const clock = jumpingClock(1000);
    const memory = new VirtioMemMechanism({ clock, pollIntervalMs: 100 });
    const error = await memory.plug(vm, 'slot0', 256 * MiB).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemoryStuckError);
    expect({ ...(error as MemoryStuckError) }).toEqual({
      code: 'MEMORY_STUCK',
      vm: 'vm-b',
      slot: 'slot0',
      operation: 'plug',
      requestedBytes: 256 * MiB,
      pluggedBytes: 128 * MiB,
      stalledMs: 5000,
      elapsedMs: 5000,
      lastSeenBy: 'poll',
      lastSeenAtMs: 6000,
    });
    expect((error as Error).message).toBe(
      'Memory plug stuck on vm-b slot0: 128 MiB plugged of 256 MiB requested, no progress for 5000 ms (5000 ms since the request; last seen by poll)',
    );
    // One query before the request, one poll at once, then one per 100 ms for 5 s.
    expect(peer.commands.filter((c) => c === 'query-memory-devices')).toHaveLength(52);
  });

  it('gives a shrink the unplug limit (20 s without progress), whichever method asked', async () => {
    const { vm } = await startVm([
      device('vmem-slot0', { sizeBytes: 256 * MiB, stallAtBytes: 192 * MiB, events: 'none' }),
    ]);
    const memory = new VirtioMemMechanism({ clock: jumpingClock(0), pollIntervalMs: 100 });
    const error = await memory.plug(vm, 'slot0', 64 * MiB).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'MEMORY_STUCK',
      operation: 'unplug',
      requestedBytes: 64 * MiB,
      pluggedBytes: 192 * MiB,
      stalledMs: 20_000,
      elapsedMs: 20_000,
    });
  });

  it('counts from the last change of size, so a slow but moving resize is not stuck', async () => {
    // 32 MiB every third poll (every 300 ms on this clock), 8 steps, with 500 ms allowed between changes.
    const { vm } = await startVm([
      device('vmem-slot0', { stepBytes: 32 * MiB, stepEveryQueries: 3, events: 'none' }),
    ]);
    const clock = jumpingClock(0);
    const memory = new VirtioMemMechanism({ clock, pollIntervalMs: 100, plugLimits: { stuckAfterMs: 500 } });
    const result = await memory.plug(vm, 'slot0', 256 * MiB);
    expect(result).toMatchObject({ pluggedBytes: 256 * MiB, seenBy: 'poll' });
    expect(result.durationMs).toBe(2200);
  });

  it('gives up at the overall deadline even while the size still moves', async () => {
    const { vm } = await startVm([
      device('vmem-slot0', { stepBytes: 2 * MiB, stepEveryQueries: 1, events: 'none' }),
    ]);
    const memory = new VirtioMemMechanism({ clock: jumpingClock(0), pollIntervalMs: 100 });
    const error = await memory
      .plug(vm, 'slot0', 256 * MiB, { deadlineMs: 2000, stuckAfterMs: 1000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error).toMatchObject({ code: 'WAIT_TIMEOUT', timeoutMs: 2000 });
    expect((error as Error).message).toBe(
      'Timed out after 2000 ms waiting for vm-b slot0 to reach 256 MiB (plug); last seen: 42 MiB plugged, by poll',
    );
  });

  it('ignores size-change events from before the request and from other devices', async () => {
    const { peer, qmp, vm } = await startVm([
      device('vmem-slot0', { stepMs: 60, events: 'none' }),
      device('vmem-slot1'),
    ]);
    // A late event from an earlier resize to the same size waits in the client's backlog.
    peer.emitSizeChange('vmem-slot0', 256 * MiB);
    await expect.poll(() => qmp.events.length).toBe(1);
    const memory = new VirtioMemMechanism({ pollIntervalMs: 10 });
    const plugging = memory.plug(vm, 'slot0', 256 * MiB);
    setTimeout(() => peer.emitSizeChange('vmem-slot1', 256 * MiB), 10);
    const result = await plugging;
    expect(result).toMatchObject({ pluggedBytes: 256 * MiB, seenBy: 'poll' });
    expect(result.durationMs).toBeGreaterThanOrEqual(50);
  });
});
