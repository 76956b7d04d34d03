// The virtio-mem memory mechanism: one virtio-mem device per slot, resized with qom-set requested-size.
import { MemoryRequestError } from '../errors.js';
import { createSilentLogger, type Logger } from '../log.js';
import { queryMemoryDevices, setVirtioMemRequestedSize, type VirtioMemInfo } from '../qmp/commands.js';
import { formatBytes } from '../units.js';
import {
  type Clock,
  DEFAULT_PLUG_LIMITS,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_UNPLUG_LIMITS,
  deviceIdOf,
  type MemoryMechanism,
  type MemoryTarget,
  type PlugResult,
  type ResizeOptions,
  type SlotObservation,
  slotOfDeviceId,
  systemClock,
  type WaitLimits,
} from './mechanism.js';
import { checkResize, requireSlot } from './validate.js';
import { queryDevice, SizeEventWatch, waitForSize } from './wait-size.js';

export interface VirtioMemOptions {
  log?: Logger;
  clock?: Clock;
  /** How often query-memory-devices is polled while waiting (events wake the wait earlier). */
  pollIntervalMs?: number;
  plugLimits?: Partial<WaitLimits>;
  unplugLimits?: Partial<WaitLimits>;
}

/**
 * Resizes virtio-mem devices. `qom-set requested-size` returns before the guest has the memory,
 * and QEMU's MEMORY_DEVICE_SIZE_CHANGE is rate-limited, so completion is whichever comes first of
 * that event and a query-memory-devices poll. One resize per slot at a time: a second one is refused.
 */
export class VirtioMemMechanism implements MemoryMechanism {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly pollIntervalMs: number;
  private readonly plugLimits: WaitLimits;
  private readonly unplugLimits: WaitLimits;
  private readonly busy = new Set<string>();

  constructor(options: VirtioMemOptions = {}) {
    this.log = options.log ?? createSilentLogger();
    this.clock = options.clock ?? systemClock;
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.plugLimits = { ...DEFAULT_PLUG_LIMITS, ...options.plugLimits };
    this.unplugLimits = { ...DEFAULT_UNPLUG_LIMITS, ...options.unplugLimits };
  }

  plug(vm: MemoryTarget, slot: string, bytes: number, options: ResizeOptions = {}): Promise<PlugResult> {
    return this.resize(vm, slot, bytes, 'plug', options);
  }

  unplug(vm: MemoryTarget, slot: string, options: ResizeOptions = {}): Promise<PlugResult> {
    return this.resize(vm, slot, 0, 'unplug', options);
  }

  async observe(vm: MemoryTarget, slot?: string): Promise<SlotObservation[]> {
    if (slot !== undefined) {
      requireSlot(vm, slot, 'observe');
      const device = await queryDevice(vm.qmp, {
        vm: vm.name,
        slot,
        deviceId: deviceIdOf(slot),
        operation: 'observe',
      });
      return [this.observationOf(vm, slot, device)];
    }
    const devices = await queryMemoryDevices(vm.qmp);
    const observations: SlotObservation[] = [];
    for (const device of devices) {
      const deviceSlot = slotOfDeviceId(device.id);
      if (device.kind !== 'virtio-mem' || deviceSlot === undefined) continue;
      observations.push(this.observationOf(vm, deviceSlot, device as VirtioMemInfo));
    }
    return observations;
  }

  private async resize(
    vm: MemoryTarget,
    slot: string,
    bytes: number,
    asked: 'plug' | 'unplug',
    options: ResizeOptions,
  ): Promise<PlugResult> {
    checkResize(vm, slot, bytes, asked);
    const key = `${vm.name}\u0000${slot}`;
    if (this.busy.has(key)) {
      throw new MemoryRequestError({
        vm: vm.name,
        slot,
        operation: asked,
        requestedBytes: bytes,
        message: `Cannot ${asked} ${vm.name} ${slot}: another resize of this slot is in progress`,
      });
    }
    this.busy.add(key);
    try {
      return await this.resizeUnlocked(vm, slot, bytes, asked, options);
    } finally {
      this.busy.delete(key);
    }
  }

  private async resizeUnlocked(
    vm: MemoryTarget,
    slot: string,
    bytes: number,
    asked: 'plug' | 'unplug',
    options: ResizeOptions,
  ): Promise<PlugResult> {
    const deviceId = deviceIdOf(slot);
    const before = await queryDevice(vm.qmp, { vm: vm.name, slot, deviceId, operation: asked });
    // Shrinking is an unplug whichever method was called: it gets the unplug limits.
    const operation = bytes < before.sizeBytes ? 'unplug' : 'plug';
    const limits = { ...(operation === 'plug' ? this.plugLimits : this.unplugLimits), ...options };
    const log = this.log.child({ vm: vm.name, slot });
    const watch = new SizeEventWatch(vm.qmp, deviceId, this.clock);
    try {
      const startedAtMs = this.clock.now();
      log.debug({ operation, fromBytes: before.sizeBytes, toBytes: bytes }, 'memory resize requested');
      await setVirtioMemRequestedSize(vm.qmp, deviceId, bytes);
      const seen = await waitForSize({
        qmp: vm.qmp,
        vm: vm.name,
        slot,
        deviceId,
        operation,
        targetBytes: bytes,
        startBytes: before.sizeBytes,
        startedAtMs,
        limits,
        pollIntervalMs: this.pollIntervalMs,
        clock: this.clock,
        watch,
      });
      const result: PlugResult = {
        vm: vm.name,
        slot,
        operation,
        requestedBytes: bytes,
        pluggedBytes: seen.sizeBytes,
        durationMs: seen.atMs - startedAtMs,
        seenBy: seen.by,
        observedAtMs: seen.atMs,
      };
      log.debug(
        { operation, pluggedBytes: seen.sizeBytes, durationMs: result.durationMs, seenBy: seen.by },
        `memory ${operation} of ${slot} to ${formatBytes(bytes)} done`,
      );
      return result;
    } finally {
      watch.close();
    }
  }

  private observationOf(vm: MemoryTarget, slot: string, device: VirtioMemInfo): SlotObservation {
    return {
      vm: vm.name,
      slot,
      deviceId: device.id,
      node: device.node,
      pluggedBytes: device.sizeBytes,
      requestedBytes: device.requestedSizeBytes,
      maxSizeBytes: device.maxSizeBytes,
      blockSizeBytes: device.blockSizeBytes,
      observedAtMs: this.clock.now(),
    };
  }
}
