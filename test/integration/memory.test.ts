import { describe, expect } from 'vitest';
import type { AgentChannel } from '../../src/agent/channel.js';
import type { MemStatus } from '../../src/agent/protocol.js';
import { MemoryRequestError, WaitTimeoutError } from '../../src/errors.js';
import { targetOf } from '../../src/memory/mechanism.js';
import { VirtioMemMechanism } from '../../src/memory/virtio-mem.js';
import { queryMemorySizeSummary } from '../../src/qmp/commands.js';
import { MiB } from '../../src/units.js';
import { hostAccel, smallGuestSpec, test } from '../helpers/vm-fixture.js';

/** Polls the agent's mem.status until `isWanted` holds: the guest onlines memory after QEMU reports it. */
async function waitForGuestMemory(
  agent: AgentChannel,
  what: string,
  isWanted: (status: MemStatus) => boolean,
  timeoutMs = 10_000,
): Promise<MemStatus> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const status = await agent.memStatus(5000);
    if (isWanted(status)) return status;
    if (performance.now() >= deadline) {
      throw new WaitTimeoutError({
        waitedFor: `the guest to see ${what}`,
        timeoutMs,
        lastSeen: JSON.stringify(status),
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function nodeBytes(status: MemStatus, node: number): number | undefined {
  return status.numaNodes.find((n) => n.id === node)?.memTotalBytes;
}

describe('virtio-mem on a real guest', () => {
  test('plugs 256 MiB into a slot, refuses an oversized plug, and unplugs back to the baseline', async ({
    vms,
  }) => {
    const accel = await hostAccel();
    const { machine } = await vms.boot(await smallGuestSpec('vm-mem'));
    const vm = targetOf(machine);
    const memory = new VirtioMemMechanism({ log: vms.log });
    const plugBytes = 256 * MiB;
    // Adding memory costs the guest 1/64 of it for its memmap; MemTotal may show that or not.
    const leastSeenBytes = plugBytes - plugBytes / 64;

    // Baseline: nothing plugged on the host, node 1 absent in the guest.
    const emptySlot = { slot: 'slot0', node: 1, pluggedBytes: 0, requestedBytes: 0, maxSizeBytes: 512 * MiB };
    expect(await memory.observe(vm)).toEqual([expect.objectContaining(emptySlot)]);
    expect(await queryMemorySizeSummary(machine.qmp)).toEqual({
      baseMemoryBytes: 128 * MiB,
      pluggedMemoryBytes: 0,
    });
    const baseline = await machine.agent.memStatus(5000);
    expect(baseline.numaNodes.map((n) => n.id)).toEqual([0]);

    // Plug 256 MiB: the host reports it at once, the guest onlines it into node 1 shortly after.
    const plugged = await memory.plug(vm, 'slot0', plugBytes);
    console.log(
      `[integration] ${accel.accel} virtio-mem plug of 256 MiB: ${Math.round(plugged.durationMs)} ms (seen by ${plugged.seenBy})`,
    );
    expect(plugged).toMatchObject({
      vm: 'vm-mem',
      slot: 'slot0',
      requestedBytes: plugBytes,
      pluggedBytes: plugBytes,
    });
    expect(plugged.durationMs).toBeLessThan(5000);
    const pluggedSlot = { ...emptySlot, pluggedBytes: plugBytes, requestedBytes: plugBytes };
    expect(await memory.observe(vm, 'slot0')).toEqual([expect.objectContaining(pluggedSlot)]);
    expect(await queryMemorySizeSummary(machine.qmp)).toEqual({
      baseMemoryBytes: 128 * MiB,
      pluggedMemoryBytes: plugBytes,
    });
    const grown = await waitForGuestMemory(
      machine.agent,
      '256 MiB more on node 1',
      (status) => (nodeBytes(status, 1) ?? 0) >= leastSeenBytes,
    );
    const grownBytes = grown.memTotalBytes - baseline.memTotalBytes;
    console.log(
      `[integration] guest MemTotal grew by ${(grownBytes / MiB).toFixed(1)} MiB; node 1 has ${((nodeBytes(grown, 1) ?? 0) / MiB).toFixed(1)} MiB; node 0 MemFree ${((baseline.numaNodes[0]?.memFreeBytes ?? 0) / MiB).toFixed(1)} -> ${((grown.numaNodes[0]?.memFreeBytes ?? 0) / MiB).toFixed(1)} MiB`,
    );
    expect(grownBytes).toBeGreaterThanOrEqual(leastSeenBytes);
    expect(grownBytes).toBeLessThanOrEqual(plugBytes);
    expect(nodeBytes(grown, 1)).toBeLessThanOrEqual(plugBytes);
    expect(grown.blocksOnline).toBe(baseline.blocksOnline + plugBytes / grown.memoryBlockSizeBytes);

    // An oversized plug is refused with the numbers, and nothing changes on either side.
    const refused = await memory.plug(vm, 'slot0', 768 * MiB).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MemoryRequestError);
    expect((refused as Error).message).toBe(
      'Cannot plug 768 MiB into vm-mem slot0: the slot holds at most 512 MiB',
    );
    expect(await memory.observe(vm)).toEqual([expect.objectContaining(pluggedSlot)]);
    const afterRefusal = await machine.agent.memStatus(5000);
    expect(afterRefusal.memTotalBytes).toBe(grown.memTotalBytes);
    expect(nodeBytes(afterRefusal, 1)).toBe(nodeBytes(grown, 1));

    // Unplug to 0: back to the baseline on both views.
    const unplugged = await memory.unplug(vm, 'slot0');
    console.log(
      `[integration] ${accel.accel} virtio-mem unplug of 256 MiB: ${Math.round(unplugged.durationMs)} ms (seen by ${unplugged.seenBy})`,
    );
    expect(unplugged).toMatchObject({ operation: 'unplug', requestedBytes: 0, pluggedBytes: 0 });
    expect(await memory.observe(vm)).toEqual([expect.objectContaining(emptySlot)]);
    expect(await queryMemorySizeSummary(machine.qmp)).toEqual({
      baseMemoryBytes: 128 * MiB,
      pluggedMemoryBytes: 0,
    });
    const back = await waitForGuestMemory(
      machine.agent,
      'node 1 gone and MemTotal back to the baseline',
      (status) => status.memTotalBytes === baseline.memTotalBytes && status.numaNodes.length === 1,
    );
    expect(back.numaNodes.map((n) => n.id)).toEqual([0]);
    expect(back.blocksOnline).toBe(baseline.blocksOnline);
    expect(back.blocksOffline).toBe(baseline.blocksOffline);
  });
});
