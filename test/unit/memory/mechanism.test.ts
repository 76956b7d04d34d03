import { describe, expect, it } from 'vitest';
import { deviceIdOf, slotOfDeviceId, systemClock, targetOf } from '../../../src/memory/mechanism.js';
import type { Machine } from '../../../src/vm/machine.js';

describe('slot and device ids', () => {
  it('names a slot’s device as the argv builder does, and back', () => {
    expect(deviceIdOf('slot0')).toBe('vmem-slot0');
    expect(slotOfDeviceId('vmem-slot0')).toBe('slot0');
    expect(slotOfDeviceId('dimm0')).toBeUndefined();
    expect(slotOfDeviceId('vmem-')).toBeUndefined();
  });
});

describe('targetOf', () => {
  it("takes a machine's name, QMP client and slot limits", () => {
    const qmp = {} as Machine['qmp'];
    const slots = [{ id: 'slot0', maxSizeBytes: 1, requestedSizeBytes: 0, blockSizeBytes: 1 }];
    const machine = { spec: { name: 'vm-a', slots }, qmp } as unknown as Machine;
    expect(targetOf(machine)).toEqual({ name: 'vm-a', qmp, slots });
  });
});

describe('systemClock.sleep', () => {
  it('sleeps for the given time', async () => {
    const start = performance.now();
    await systemClock.sleep(30, new AbortController().signal);
    expect(performance.now() - start).toBeGreaterThanOrEqual(25);
  });

  it('wakes early, without an error, when its signal aborts', async () => {
    const abort = new AbortController();
    const start = performance.now();
    setTimeout(() => abort.abort(), 10);
    await systemClock.sleep(60_000, abort.signal);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});
