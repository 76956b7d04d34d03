import { describe, expect, it } from 'vitest';
import { MemoryRequestError, QmpCommandError } from '../../../src/errors.js';
import { VirtioMemMechanism } from '../../../src/memory/virtio-mem.js';
import { MiB } from '../../../src/units.js';
import { device, startVm } from './fixtures.js';

describe('VirtioMemMechanism.plug', () => {
  it('completes on the size-change event when the next poll is far away', async () => {
    const { peer, vm } = await startVm([device('vmem-slot0', { stepMs: 30 })]);
    const memory = new VirtioMemMechanism({ pollIntervalMs: 60_000 });
    const result = await memory.plug(vm, 'slot0', 256 * MiB);
    expect(result).toMatchObject({
      vm: 'vm-b',
      slot: 'slot0',
      operation: 'plug',
      requestedBytes: 256 * MiB,
      pluggedBytes: 256 * MiB,
      seenBy: 'event',
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(20);
    expect(result.durationMs).toBeLessThan(5000);
    expect(peer.received.find((m) => m.execute === 'qom-set')?.arguments).toEqual({
      path: 'vmem-slot0',
      property: 'requested-size',
      value: 256 * MiB,
    });
    expect(peer.devices[0]?.sizeBytes).toBe(256 * MiB);
  });

  it('completes by polling query-memory-devices when no event comes', async () => {
    const { peer, vm } = await startVm([device('vmem-slot0', { stepMs: 30, events: 'none' })]);
    const memory = new VirtioMemMechanism({ pollIntervalMs: 10 });
    const result = await memory.plug(vm, 'slot0', 256 * MiB);
    expect(result).toMatchObject({ pluggedBytes: 256 * MiB, requestedBytes: 256 * MiB, seenBy: 'poll' });
    expect(result.durationMs).toBeGreaterThanOrEqual(20);
    expect(result.observedAtMs).toBeGreaterThan(0);
    // One query before the request, then polls until the size matched.
    expect(peer.commands[0]).toBe('query-memory-devices');
    expect(peer.commands[1]).toBe('qom-set');
    expect(peer.commands.filter((c) => c === 'query-memory-devices').length).toBeGreaterThan(2);
  });

  it('sets the absolute size, not a delta: a smaller total shrinks the slot', async () => {
    const { peer, vm } = await startVm([device('vmem-slot0')]);
    const memory = new VirtioMemMechanism({ pollIntervalMs: 10 });
    await memory.plug(vm, 'slot0', 256 * MiB);
    const result = await memory.plug(vm, 'slot0', 128 * MiB);
    expect(result).toMatchObject({ operation: 'unplug', requestedBytes: 128 * MiB, pluggedBytes: 128 * MiB });
    const values = peer.received.filter((m) => m.execute === 'qom-set').map((m) => m.arguments);
    expect(values).toEqual([
      { path: 'vmem-slot0', property: 'requested-size', value: 256 * MiB },
      { path: 'vmem-slot0', property: 'requested-size', value: 128 * MiB },
    ]);
    expect(peer.devices[0]?.sizeBytes).toBe(128 * MiB);
  });

  it('refuses a second resize of a slot while one is in progress, and finishes the first', async () => {
    const { vm } = await startVm([device('vmem-slot0', { stepMs: 50 })]);
    const memory = new VirtioMemMechanism({ pollIntervalMs: 10 });
    const first = memory.plug(vm, 'slot0', 256 * MiB);
    const second = await memory.plug(vm, 'slot0', 128 * MiB).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(MemoryRequestError);
    expect((second as Error).message).toBe(
      'Cannot plug vm-b slot0: another resize of this slot is in progress',
    );
    await expect(first).resolves.toMatchObject({ pluggedBytes: 256 * MiB });
  });

  it.each([
    [768 * MiB, 'slot0', 'Cannot plug 768 MiB into vm-b slot0: the slot holds at most 512 MiB'],
    [
      3 * MiB,
      'slot0',
      "Cannot plug 3 MiB into vm-b slot0: the size must be a whole multiple of the slot's 2 MiB block size",
    ],
    [
      256 * MiB,
      'slot9',
      'Cannot plug 256 MiB into vm-b slot9: vm-b has no slot slot9 (its slots: slot0, slot1)',
    ],
  ])('refuses %d bytes into %s before sending anything to QEMU', async (bytes, slot, message) => {
    const { peer, vm } = await startVm([device('vmem-slot0'), device('vmem-slot1')]);
    const error = await new VirtioMemMechanism().plug(vm, slot, bytes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemoryRequestError);
    expect(error).toMatchObject({ code: 'MEMORY_REQUEST_REFUSED', vm: 'vm-b', slot, requestedBytes: bytes });
    expect((error as Error).message).toBe(message);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(peer.received.map((m) => m.execute)).toEqual(['qmp_capabilities']);
  });

  it('refuses a slot QEMU has no device for, without sending qom-set', async () => {
    const { peer, vm } = await startVm([device('vmem-slot0')]);
    const error = await new VirtioMemMechanism().plug(vm, 'slot1', 256 * MiB).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemoryRequestError);
    expect((error as Error).message).toBe(
      'Cannot plug vm-b slot1: QEMU reports no virtio-mem device vmem-slot1',
    );
    expect(peer.commands).toEqual(['query-memory-devices']);
  });

  it("passes on QEMU's refusal when the target's limits disagree with the device", async () => {
    const { vm } = await startVm(
      [device('vmem-slot0', { maxSizeBytes: 128 * MiB })],
      [{ id: 'slot0', maxSizeBytes: 512 * MiB, blockSizeBytes: 2 * MiB }],
    );
    const error = await new VirtioMemMechanism().plug(vm, 'slot0', 256 * MiB).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpCommandError);
    expect(error).toMatchObject({ command: 'qom-set', vm: 'vm-b' });
  });
});

describe('VirtioMemMechanism.unplug', () => {
  it('shrinks the slot to 0 and waits until QEMU reports nothing plugged', async () => {
    const { peer, vm } = await startVm([
      device('vmem-slot0', { sizeBytes: 256 * MiB, stepBytes: 128 * MiB, stepMs: 20, events: 'none' }),
    ]);
    const result = await new VirtioMemMechanism({ pollIntervalMs: 10 }).unplug(vm, 'slot0');
    expect(result).toMatchObject({
      vm: 'vm-b',
      slot: 'slot0',
      operation: 'unplug',
      requestedBytes: 0,
      pluggedBytes: 0,
      seenBy: 'poll',
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(30);
    expect(peer.received.find((m) => m.execute === 'qom-set')?.arguments).toEqual({
      path: 'vmem-slot0',
      property: 'requested-size',
      value: 0,
    });
    expect(peer.devices[0]).toMatchObject({ sizeBytes: 0, requestedSizeBytes: 0 });
  });

  it('refuses an unknown slot before sending anything to QEMU', async () => {
    const { peer, vm } = await startVm([device('vmem-slot0')]);
    const error = await new VirtioMemMechanism().unplug(vm, 'slot9').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MEMORY_REQUEST_REFUSED', operation: 'unplug', slot: 'slot9' });
    expect((error as Error).message).toBe(
      'Cannot unplug vm-b slot9: vm-b has no slot slot9 (its slots: slot0, slot1)',
    );
    expect(peer.commands).toEqual([]);
  });
});

describe('VirtioMemMechanism.observe', () => {
  it('reports every slot as QEMU does, or one slot', async () => {
    const { vm } = await startVm([
      device('vmem-slot0', { sizeBytes: 256 * MiB }),
      device('vmem-slot1', { node: 2 }),
    ]);
    const memory = new VirtioMemMechanism();
    const all = await memory.observe(vm);
    expect(all).toEqual([
      {
        vm: 'vm-b',
        slot: 'slot0',
        deviceId: 'vmem-slot0',
        node: 1,
        pluggedBytes: 256 * MiB,
        requestedBytes: 256 * MiB,
        maxSizeBytes: 512 * MiB,
        blockSizeBytes: 2 * MiB,
        observedAtMs: expect.any(Number),
      },
      expect.objectContaining({ slot: 'slot1', node: 2, pluggedBytes: 0 }),
    ]);
    expect(await memory.observe(vm, 'slot1')).toEqual([expect.objectContaining({ slot: 'slot1', node: 2 })]);
  });

  it('refuses a slot the VM does not have', async () => {
    const { peer, vm } = await startVm([device('vmem-slot0')]);
    const error = await new VirtioMemMechanism().observe(vm, 'slot7').catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      'Cannot observe vm-b slot7: vm-b has no slot slot7 (its slots: slot0, slot1)',
    );
    expect(peer.commands).toEqual([]);
  });
});
