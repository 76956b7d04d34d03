import { describe, expect, it } from 'vitest';
import { MemoryRequestError } from '../../../src/errors.js';
import type { MemoryTarget } from '../../../src/memory/mechanism.js';
import { checkResize, requireSlot } from '../../../src/memory/validate.js';
import { GiB, MiB } from '../../../src/units.js';

const vm: MemoryTarget = {
  name: 'vm-b',
  qmp: {} as MemoryTarget['qmp'],
  slots: [
    { id: 'slot0', maxSizeBytes: 1 * GiB, blockSizeBytes: 2 * MiB },
    { id: 'slot1', maxSizeBytes: 512 * MiB, blockSizeBytes: 4 * MiB },
  ],
};

function refusal(run: () => unknown): MemoryRequestError {
  try {
    run();
  } catch (error) {
    if (error instanceof MemoryRequestError) return error;
    throw error;
  }
  throw new Error('expected a MemoryRequestError');
}

describe('checkResize', () => {
  it('returns the slot limits for a size the slot can hold', () => {
    expect(checkResize(vm, 'slot0', 1 * GiB, 'plug')).toEqual(vm.slots[0]);
    expect(checkResize(vm, 'slot1', 0, 'unplug')).toEqual(vm.slots[1]);
  });

  it.each([
    ['slot0', 1536 * MiB, 'Cannot plug 1536 MiB into vm-b slot0: the slot holds at most 1 GiB'],
    ['slot1', 516 * MiB, 'Cannot plug 516 MiB into vm-b slot1: the slot holds at most 512 MiB'],
    [
      'slot1',
      6 * MiB,
      "Cannot plug 6 MiB into vm-b slot1: the size must be a whole multiple of the slot's 4 MiB block size",
    ],
    [
      'slot0',
      -2 * MiB,
      'Cannot plug into vm-b slot0: the size must be a whole number of bytes, 0 or more, got -2097152',
    ],
    [
      'slot0',
      1.5,
      'Cannot plug into vm-b slot0: the size must be a whole number of bytes, 0 or more, got 1.5',
    ],
    ['slot2', 2 * MiB, 'Cannot plug 2 MiB into vm-b slot2: vm-b has no slot slot2 (its slots: slot0, slot1)'],
  ])('refuses %s at %d bytes with the numbers in the message', (slot, bytes, message) => {
    const error = refusal(() => checkResize(vm, slot, bytes, 'plug'));
    expect(error).toMatchObject({ code: 'MEMORY_REQUEST_REFUSED', vm: 'vm-b', slot, operation: 'plug' });
    expect(error.requestedBytes).toBe(bytes);
    expect(error.message).toBe(message);
  });
});

describe('requireSlot', () => {
  it('says when the VM has no slots at all', () => {
    const error = refusal(() => requireSlot({ ...vm, slots: [] }, 'slot0', 'unplug'));
    expect(error.message).toBe('Cannot unplug vm-b slot0: vm-b has no slot slot0 (it has none)');
    expect(error.requestedBytes).toBeUndefined();
  });
});
