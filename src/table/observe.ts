// Observed memory: recording what QEMU or the agent reports, and reporting where QEMU and the table differ.
import { TableRequestError } from '../errors.js';
import { formatBytes } from '../units.js';
import { appAreasOf, findArea, requireVm } from './lookup.js';
import { nextTable, replaceArea } from './next.js';
import type { ObservationSource, ResourceTable, TableResult } from './types.js';

export interface Observation {
  /** The area observed, by name (`app:kv`). */
  area: string;
  pluggedBytes: number;
  /** When it was observed, from the caller's clock: the table never reads one. */
  atMs: number;
  by: ObservationSource;
}

/**
 * Records what was observed plugged for an area. This bumps the epoch like any other change: the
 * table value differs and is persisted, and a reader comparing epochs must see that it moved.
 * An observation older than the one recorded is refused, so a late reply cannot undo a newer one.
 */
export function recordObserved(table: ResourceTable, observation: Observation): TableResult {
  const { pluggedBytes, atMs, by } = observation;
  const operation = 'recordObserved';
  const refusal = `Cannot record an observation of ${observation.area}`;
  const refuse = (detail: string): never => {
    throw new TableRequestError({ operation, message: `${refusal}: ${detail}` });
  };
  const area = findArea(table, observation.area);
  if (area === undefined) return refuse('no such area in the table');
  if (!Number.isSafeInteger(pluggedBytes) || pluggedBytes < 0) {
    refuse(`plugged size must be a non-negative whole number of bytes, got ${pluggedBytes}`);
  }
  if (!Number.isFinite(atMs)) refuse(`observation time must be a finite number of ms, got ${atMs}`);
  if (area.observedAtMs !== undefined && atMs < area.observedAtMs) {
    refuse(`it was made at ${atMs} ms, before the one recorded at ${area.observedAtMs} ms`);
  }
  const observed = { ...area, pluggedBytes, observedAtMs: atMs, observedBy: by };
  return { table: nextTable(table, { areas: replaceArea(table.areas, area.name, observed) }) };
}

/** One memory device as QEMU reports it (`query-memory-devices`), by slot id. */
export interface QemuDevice {
  slot: string;
  pluggedBytes: number;
}

/** How the table and QEMU differ for one area or device. */
export type DriftKind = 'size-mismatch' | 'missing-device' | 'unclaimed-device' | 'no-slot';

export interface Drift {
  readonly kind: DriftKind;
  readonly vm: string;
  /** The table's area, absent for a device no area claims. */
  readonly area?: string;
  /** The slot concerned, absent for an area that names none. */
  readonly slot?: string;
  readonly expectedBytes: number;
  /** What QEMU reports plugged; absent when QEMU has no device to report on. */
  readonly reportedBytes?: number;
  readonly message: string;
}

/**
 * Compares the app areas `vm` holds with the devices QEMU reports plugged in that VM. Every
 * difference is returned, never smoothed over: an area whose size QEMU does not match, an area
 * whose slot QEMU lacks, an area naming no slot (nothing to check it against), and a device with
 * memory plugged that no area claims. Meaningful once the VM is settled (no resize in flight).
 */
export function compareWithQemu(table: ResourceTable, vm: string, devices: readonly QemuDevice[]): Drift[] {
  requireVm(table, vm, 'compareWithQemu', `Cannot compare ${vm} with QEMU`);
  const drifts: Drift[] = [];
  const areas = appAreasOf(table, vm);
  for (const area of areas) {
    const expected = formatBytes(area.sizeBytes);
    const base = { vm, area: area.name, expectedBytes: area.sizeBytes };
    if (area.slot === undefined) {
      drifts.push({
        ...base,
        kind: 'no-slot',
        message: `${area.name} on ${vm}: the table expects ${expected} but names no slot to check it against`,
      });
      continue;
    }
    const device = devices.find((d) => d.slot === area.slot);
    if (device === undefined) {
      drifts.push({
        ...base,
        kind: 'missing-device',
        slot: area.slot,
        message: `${area.name} on ${vm}: the table expects ${expected} in ${area.slot}, QEMU has no device ${area.slot}`,
      });
    } else if (device.pluggedBytes !== area.sizeBytes) {
      drifts.push({
        ...base,
        kind: 'size-mismatch',
        slot: area.slot,
        reportedBytes: device.pluggedBytes,
        message: `${area.name} on ${vm}: the table expects ${expected} in ${area.slot}, QEMU reports ${formatBytes(device.pluggedBytes)} plugged`,
      });
    }
  }
  for (const device of devices) {
    if (device.pluggedBytes === 0 || areas.some((area) => area.slot === device.slot)) continue;
    drifts.push({
      kind: 'unclaimed-device',
      vm,
      slot: device.slot,
      expectedBytes: 0,
      reportedBytes: device.pluggedBytes,
      message: `${device.slot} on ${vm}: QEMU reports ${formatBytes(device.pluggedBytes)} plugged, no area of the table claims it`,
    });
  }
  return drifts;
}
