// State documents built on the seed's figure 4 tables, and throwaway state directories.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import type { FailoverRecord } from '../../../src/state/history.js';
import { beginPhase, createOperation } from '../../../src/state/operations.js';
import type { StateDoc } from '../../../src/state/types.js';
import { stateC } from '../table/fixtures.js';

/** A fresh private directory under the OS temp dir, removed after the test. */
export async function tempStateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'baton-state-'));
  onTestFinished(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

export function failoverRecord(id: string): FailoverRecord {
  return {
    id,
    kind: 'whole-vm',
    trigger: 'GUEST_PANICKED on vm-a',
    fromVm: 'vm-a',
    toVm: 'vm-b',
    startedAt: '2025-01-01T00:00:00.000Z',
    totalMs: 812.5,
    result: 'succeeded',
    phases: [{ name: 'fence', ms: 40.1 }],
  };
}

/** Figure 4's state C at `epoch`, with one whole-VM failover in flight (fence begun) and one in history. */
export function sampleDoc(epoch: number): StateDoc {
  const op = createOperation({
    id: 'op-1',
    kind: 'whole-vm',
    apps: ['A'],
    fromVm: 'vm-a',
    toVm: 'vm-b',
    trigger: 'GUEST_PANICKED on vm-a',
    startedAt: '2025-01-01T00:00:01.000Z',
  });
  return {
    schemaVersion: 1,
    epoch,
    table: stateC(),
    operations: [beginPhase(op, 'fence', '2025-01-01T00:00:01.005Z')],
    history: [failoverRecord('f-0')],
  };
}

/** Flips one bit of the file at `path`: bit `bit` of the byte at `offset` (default: the middle byte). */
export async function flipBit(path: string, options: { offset?: number; bit?: number } = {}): Promise<void> {
  const bytes = await readFile(path);
  const offset = options.offset ?? Math.floor(bytes.length / 2);
  bytes[offset] = (bytes[offset] ?? 0) ^ (1 << (options.bit ?? 0));
  await writeFile(path, bytes);
}

/** Cuts the file at `path` to its first `keepBytes` bytes (default: half). */
export async function truncateFile(path: string, keepBytes?: number): Promise<void> {
  const bytes = await readFile(path);
  await writeFile(path, bytes.subarray(0, keepBytes ?? Math.floor(bytes.length / 2)));
}
