// Checks shared by the integration tests: leftover QEMUs, the table against QEMU, deadline polling.
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { slotOfDeviceId } from '../../src/memory/mechanism.js';
import type { Pair } from '../../src/pair/pair.js';
import { queryMemoryDevices } from '../../src/qmp/commands.js';
import { assertInvariants, compareWithQemu } from '../../src/table/index.js';

/** QEMU processes whose command line mentions `dir`, read from /proc (not from our own records). */
export function qemuPidsUnder(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmdline.includes('qemu-system') && cmdline.includes(dir);
      } catch {
        return false; // Exited while we looked.
      }
    })
    .map(Number);
}

/** Polls `probe` until it returns a value; throws naming `what` after `timeoutMs`. */
export async function until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const startedAtMs = performance.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() - startedAtMs > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** I2: the table sums to the budget, and matches what QEMU reports plugged on every VM of the pair. */
export async function expectTableMatchesQemu(pair: Pair): Promise<void> {
  assertInvariants(pair.table);
  for (const vm of pair.vms.values()) {
    const devices = (await queryMemoryDevices(vm.machine.qmp)).flatMap((d) =>
      'sizeBytes' in d ? [{ slot: slotOfDeviceId(d.id) ?? d.id, pluggedBytes: d.sizeBytes }] : [],
    );
    expect(compareWithQemu(pair.table, vm.machine.spec.name, devices)).toEqual([]);
  }
}
