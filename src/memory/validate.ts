// Checks a memory request against the slot's limits before anything is sent to QEMU.
import { MemoryRequestError } from '../errors.js';
import { formatBytes } from '../units.js';
import type { MemorySlotLimits, MemoryTarget } from './mechanism.js';

/** The slot's limits; MemoryRequestError when the VM has no such slot. */
export function requireSlot(
  vm: MemoryTarget,
  slot: string,
  operation: 'plug' | 'unplug' | 'observe',
  requestedBytes?: number,
): MemorySlotLimits {
  const limits = vm.slots.find((candidate) => candidate.id === slot);
  if (limits !== undefined) return limits;
  const known = vm.slots.length === 0 ? 'it has none' : `its slots: ${vm.slots.map((s) => s.id).join(', ')}`;
  throw new MemoryRequestError({
    vm: vm.name,
    slot,
    operation,
    ...(requestedBytes === undefined ? {} : { requestedBytes }),
    message: `${refusalOf(vm, slot, operation, requestedBytes)}: ${vm.name} has no slot ${slot} (${known})`,
  });
}

/**
 * Refuses a new total size for `slot` that QEMU would refuse or the slot cannot hold: not a whole
 * number of bytes, above the slot's maximum, or not a multiple of its block size.
 */
export function checkResize(
  vm: MemoryTarget,
  slot: string,
  bytes: number,
  operation: 'plug' | 'unplug',
): MemorySlotLimits {
  const limits = requireSlot(vm, slot, operation, bytes);
  const refuse = (detail: string): never => {
    throw new MemoryRequestError({
      vm: vm.name,
      slot,
      operation,
      requestedBytes: bytes,
      message: `${refusalOf(vm, slot, operation, bytes)}: ${detail}`,
    });
  };
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    refuse(`the size must be a whole number of bytes, 0 or more, got ${bytes}`);
  }
  if (bytes > limits.maxSizeBytes) {
    refuse(`the slot holds at most ${formatBytes(limits.maxSizeBytes)}`);
  }
  if (bytes % limits.blockSizeBytes !== 0) {
    refuse(
      `the size must be a whole multiple of the slot's ${formatBytes(limits.blockSizeBytes)} block size`,
    );
  }
  return limits;
}

function refusalOf(
  vm: MemoryTarget,
  slot: string,
  operation: 'plug' | 'unplug' | 'observe',
  bytes: number | undefined,
): string {
  if (operation === 'plug' && bytes !== undefined && Number.isSafeInteger(bytes) && bytes >= 0) {
    return `Cannot plug ${formatBytes(bytes)} into ${vm.name} ${slot}`;
  }
  if (operation === 'plug') return `Cannot plug into ${vm.name} ${slot}`;
  return `Cannot ${operation} ${vm.name} ${slot}`;
}
