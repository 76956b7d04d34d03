// Waits for a virtio-mem device to reach a size: QEMU's size-change event or a poll, whichever comes first.
import { MemoryRequestError, MemoryStuckError, WaitTimeoutError } from '../errors.js';
import type { QmpClient } from '../qmp/client.js';
import { onMemoryDeviceSizeChange, queryMemoryDevices, type VirtioMemInfo } from '../qmp/commands.js';
import { formatBytes } from '../units.js';
import type { Clock, MemoryOperation, SeenBy, WaitLimits } from './mechanism.js';

export interface SizeSeen {
  sizeBytes: number;
  atMs: number;
  by: SeenBy;
}

/**
 * Watches one device's MEMORY_DEVICE_SIZE_CHANGE events from the moment it is created, so events
 * already in the QMP client's backlog (from an earlier resize) never count. Start it before the
 * request is sent.
 */
export class SizeEventWatch {
  private latest: SizeSeen | undefined;
  private wake: (() => void) | undefined;
  private readonly stop: () => void;

  constructor(qmp: QmpClient, deviceId: string, clock: Clock) {
    this.stop = onMemoryDeviceSizeChange(qmp, (change) => {
      if (change.deviceId !== deviceId) return;
      this.latest = { sizeBytes: change.sizeBytes, atMs: clock.now(), by: 'event' };
      this.wake?.();
    });
  }

  /** The latest size reported by an event since the last call, if any. */
  take(): SizeSeen | undefined {
    const latest = this.latest;
    this.latest = undefined;
    return latest;
  }

  /** Sleeps up to `ms`, waking early when an event for the device arrives (or has arrived unread). */
  async sleep(clock: Clock, ms: number): Promise<void> {
    if (this.latest !== undefined) return;
    const abort = new AbortController();
    this.wake = () => abort.abort();
    try {
      await clock.sleep(ms, abort.signal);
    } finally {
      this.wake = undefined;
    }
  }

  close(): void {
    this.stop();
  }
}

export interface SizeWait {
  qmp: QmpClient;
  vm: string;
  slot: string;
  deviceId: string;
  operation: MemoryOperation;
  targetBytes: number;
  /** The size before the request, and when the request was sent. */
  startBytes: number;
  startedAtMs: number;
  limits: WaitLimits;
  pollIntervalMs: number;
  clock: Clock;
  watch: SizeEventWatch;
}

/** The device as query-memory-devices reports it; MemoryRequestError when QEMU has no such virtio-mem device. */
export async function queryDevice(
  qmp: QmpClient,
  fields: { vm: string; slot: string; deviceId: string; operation: 'plug' | 'unplug' | 'observe' },
): Promise<VirtioMemInfo> {
  const devices = await queryMemoryDevices(qmp);
  const device = devices.find((candidate) => candidate.id === fields.deviceId);
  if (device === undefined || device.kind !== 'virtio-mem') {
    throw new MemoryRequestError({
      vm: fields.vm,
      slot: fields.slot,
      operation: fields.operation,
      message: `Cannot ${fields.operation} ${fields.vm} ${fields.slot}: QEMU reports no virtio-mem device ${fields.deviceId}`,
    });
  }
  return device as VirtioMemInfo;
}

/**
 * Resolves with how the device was seen at `targetBytes`: an event saying so, or a poll showing
 * size and requested size both at the target. Throws MemoryStuckError after `stuckAfterMs` without
 * any change of size, WaitTimeoutError after `deadlineMs` in all.
 */
export async function waitForSize(wait: SizeWait): Promise<SizeSeen> {
  const { clock, limits, targetBytes } = wait;
  let last: SizeSeen = { sizeBytes: wait.startBytes, atMs: wait.startedAtMs, by: 'poll' };
  let lastChangeAtMs = wait.startedAtMs;
  const see = (seen: SizeSeen) => {
    if (seen.sizeBytes !== last.sizeBytes) lastChangeAtMs = seen.atMs;
    last = seen;
  };
  for (;;) {
    const event = wait.watch.take();
    if (event !== undefined) {
      see(event);
      if (event.sizeBytes === targetBytes) return event;
    }
    const device = await queryDevice(wait.qmp, wait);
    const polled: SizeSeen = { sizeBytes: device.sizeBytes, atMs: clock.now(), by: 'poll' };
    see(polled);
    if (device.sizeBytes === targetBytes && device.requestedSizeBytes === targetBytes) return polled;
    const stalledMs = polled.atMs - lastChangeAtMs;
    const elapsedMs = polled.atMs - wait.startedAtMs;
    if (elapsedMs >= limits.deadlineMs) {
      throw new WaitTimeoutError({
        waitedFor: `${wait.vm} ${wait.slot} to reach ${formatBytes(targetBytes)} (${wait.operation})`,
        timeoutMs: limits.deadlineMs,
        lastSeen: `${formatBytes(last.sizeBytes)} plugged, by ${last.by}`,
      });
    }
    if (stalledMs >= limits.stuckAfterMs) {
      throw new MemoryStuckError({
        vm: wait.vm,
        slot: wait.slot,
        operation: wait.operation,
        requestedBytes: targetBytes,
        pluggedBytes: last.sizeBytes,
        stalledMs,
        elapsedMs,
        lastSeenBy: last.by,
        lastSeenAtMs: last.atMs,
      });
    }
    const untilLimitMs = Math.min(limits.stuckAfterMs - stalledMs, limits.deadlineMs - elapsedMs);
    await wait.watch.sleep(clock, Math.max(1, Math.min(wait.pollIntervalMs, untilLimitMs)));
  }
}
