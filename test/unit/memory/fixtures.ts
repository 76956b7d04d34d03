// Memory test setup: a fake QEMU with virtio-mem devices, a connected QMP client, and a clock that jumps.
import { onTestFinished } from 'vitest';
import { createSilentLogger } from '../../../src/log.js';
import type { Clock, MemoryTarget } from '../../../src/memory/mechanism.js';
import type { QmpClient } from '../../../src/qmp/client.js';
import { connectQmp } from '../../../src/qmp/connect.js';
import { MiB } from '../../../src/units.js';
import { type FakeDeviceOptions, FakeVirtioMemPeer } from '../../fakes/virtio-mem-peer.js';

/** vm-b with slot0 and slot1 (512 MiB each, 2 MiB blocks), as its MachineSpec would list them. */
export const SLOTS = [
  { id: 'slot0', maxSizeBytes: 512 * MiB, blockSizeBytes: 2 * MiB },
  { id: 'slot1', maxSizeBytes: 512 * MiB, blockSizeBytes: 2 * MiB },
];

/** Starts a fake QEMU with `devices` and connects to it; everything is closed after the test. */
export async function startVm(
  devices: FakeDeviceOptions[],
  slots: MemoryTarget['slots'] = SLOTS,
): Promise<{ peer: FakeVirtioMemPeer; qmp: QmpClient; vm: MemoryTarget }> {
  const peer = await new FakeVirtioMemPeer(devices).listen();
  const qmp = await connectQmp(peer.socketPath, { vm: 'vm-b', log: createSilentLogger(), timeoutMs: 2000 });
  onTestFinished(async () => {
    qmp.close();
    await peer.close();
  });
  return { peer, qmp, vm: { name: 'vm-b', qmp, slots } };
}

/** A device as the spec launches it: 512 MiB max, 2 MiB blocks, node 1. */
export function device(id: string, options: Partial<FakeDeviceOptions> = {}): FakeDeviceOptions {
  return { id, maxSizeBytes: 512 * MiB, ...options };
}

/** A clock whose sleep jumps time forward at once (then yields to I/O), so stuck waits are exact and fast. */
export function jumpingClock(startMs = 1000): Clock & { nowMs: number } {
  const clock = {
    nowMs: startMs,
    now: () => clock.nowMs,
    sleep: (ms: number) => {
      clock.nowMs += ms;
      return new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
  return clock;
}
