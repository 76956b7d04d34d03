import { describe, expect, it } from 'vitest';
import { TableInvariantError } from '../../../src/errors.js';
import { assertInvariants, checkInvariants } from '../../../src/table/invariants.js';
import type { ResourceTable } from '../../../src/table/types.js';
import { MiB } from '../../../src/units.js';
import { patchArea, stateC } from './fixtures.js';

function violationsOf(table: ResourceTable): [string, string][] {
  return checkInvariants(table).map((violation) => [violation.rule, violation.message]);
}

describe('checkInvariants', () => {
  it('finds nothing wrong with figure 4 state C', () => {
    expect(checkInvariants(stateC())).toEqual([]);
  });

  it('detects a size that is not a whole multiple of the block, and the sum it breaks', () => {
    const table = patchArea(stateC(), 'app:B', { sizeBytes: 33 * MiB, requestedBytes: 32 * MiB });
    expect(violationsOf(table)).toEqual([
      ['alignment', 'app:B: size 33 MiB is not a whole multiple of the 2 MiB block'],
      ['sum', 'areas sum to 257 MiB, the budget is 256 MiB'],
    ]);
  });

  it('detects a negative size', () => {
    const table = patchArea(patchArea(stateC(), 'pool', { sizeBytes: -2 * MiB }), 'app:B', {
      sizeBytes: 34 * MiB,
    });
    expect(violationsOf(table)).toEqual([['negative', 'pool: size is negative (-2097152 B)']]);
  });

  it('detects a requested size that is not a whole multiple of the block', () => {
    const table = patchArea(stateC(), 'app:A', { requestedBytes: 127 * MiB });
    expect(violationsOf(table)).toEqual([
      ['alignment', 'app:A: requested size 127 MiB is not a whole multiple of the 2 MiB block'],
    ]);
  });

  it('detects areas that do not sum to the budget', () => {
    expect(violationsOf({ ...stateC(), budgetBytes: 512 * MiB })).toEqual([
      ['sum', 'areas sum to 256 MiB, the budget is 512 MiB'],
    ]);
  });

  it('detects two areas with the same name', () => {
    const table = patchArea(stateC(), 'app:B', { name: 'app:A' });
    expect(violationsOf(table)).toEqual([['unique-name', 'app:A: name used by more than one area']]);
  });

  it('detects a hot-standby app that falls back to the monitor', () => {
    const table = patchArea(stateC(), 'app:A', { onFailure: 'monitor' });
    expect(violationsOf(table)).toEqual([
      ['on-failure', 'app:A: a hot-standby app falls back to vm-b, got monitor'],
    ]);
  });

  it('detects a hot-standby app on the standby that falls back to the VM it runs on', () => {
    const table = patchArea(stateC(), 'app:A', { user: 'vm-b', onFailure: 'vm-b' });
    expect(violationsOf(table)).toEqual([
      ['on-failure', 'app:A: a hot-standby app falls back to vm-a, got vm-b'],
    ]);
  });

  it('detects an ordinary app that falls back to the standby', () => {
    const table = patchArea(stateC(), 'app:B', { onFailure: 'vm-b' });
    expect(violationsOf(table)).toEqual([
      ['on-failure', 'app:B: an ordinary app falls back to monitor, got vm-b'],
    ]);
  });

  it('detects an app area used by the monitor', () => {
    const table = patchArea(stateC(), 'app:B', { user: 'monitor' });
    expect(violationsOf(table)).toEqual([
      ['user', 'app:B: an app area is used by a VM (vm-a or vm-b), got monitor'],
    ]);
  });

  it('detects a pool used by a VM', () => {
    const table = patchArea(stateC(), 'pool', { user: 'vm-a' });
    expect(violationsOf(table)).toEqual([
      ['user', 'pool: a pool area is used by and falls back to monitor, got user vm-a, on failure monitor'],
    ]);
  });

  it('detects a monitor area that falls back to a VM', () => {
    const table = patchArea(stateC(), 'monitor', { onFailure: 'vm-b' });
    expect(violationsOf(table)).toEqual([
      [
        'user',
        'monitor: a monitor area is used by and falls back to monitor, got user monitor, on failure vm-b',
      ],
    ]);
  });

  it('detects an OS area used by someone other than its VM', () => {
    const table = patchArea(stateC(), 'os:vm-b', { user: 'monitor', onFailure: 'monitor' });
    expect(violationsOf(table)).toEqual([
      [
        'user',
        'os:vm-b: an OS area is named os:<vm> and is used by and falls back to its VM (vm-a or vm-b), got user monitor, on failure monitor',
      ],
      ['os-area', 'expected exactly one OS area for vm-b, found 0'],
    ]);
  });

  it('detects an OS area below the minimum OS size', () => {
    const table = patchArea(patchArea(stateC(), 'os:vm-a', { sizeBytes: 30 * MiB }), 'pool', {
      sizeBytes: 2 * MiB,
    });
    expect(violationsOf(table)).toEqual([['os-area', 'os:vm-a: 30 MiB is below the 32 MiB minimum OS size']]);
  });

  it('detects a table without a pool area', () => {
    const table = patchArea(stateC(), 'pool', { kind: 'monitor', name: 'monitor-2' });
    expect(violationsOf(table)).toEqual([
      ['single-area', 'expected exactly one monitor area, found 2'],
      ['single-area', 'expected exactly one pool area, found 0'],
    ]);
  });

  it('detects the same VM in both roles', () => {
    const table = { ...stateC(), roles: { active: 'vm-a', standby: 'vm-a' } };
    expect(violationsOf(table)[0]).toEqual([
      'roles',
      "active and standby must be two different VMs, got active 'vm-a', standby 'vm-a'",
    ]);
  });

  it('detects two app areas in one slot of the same VM', () => {
    const table = patchArea(stateC(), 'app:B', { slot: 'slot0' });
    expect(violationsOf(table)).toEqual([['slot', 'app:B: slot slot0 on vm-a is already used by app:A']]);
  });

  it('stops at a block size that is not positive, since nothing else can be checked against it', () => {
    expect(violationsOf({ ...stateC(), blockBytes: 0 })).toEqual([
      ['table-shape', 'block size must be a positive whole number, got 0'],
    ]);
  });

  it('detects a budget that is not a whole multiple of the block', () => {
    const table = patchArea({ ...stateC(), budgetBytes: 257 * MiB }, 'pool', {
      sizeBytes: MiB,
      requestedBytes: 0,
    });
    expect(violationsOf(table)).toEqual([
      ['table-shape', 'budget 257 MiB is not a non-negative whole multiple of the 2 MiB block'],
      ['alignment', 'pool: size 1 MiB is not a whole multiple of the 2 MiB block'],
    ]);
  });
});

describe('assertInvariants', () => {
  it('returns quietly for a sound table', () => {
    expect(() => assertInvariants(stateC())).not.toThrow();
  });

  it('throws TableInvariantError listing every violation with the epoch', () => {
    const table = patchArea(stateC(), 'app:A', { onFailure: 'monitor', sizeBytes: 130 * MiB });
    let caught: unknown;
    try {
      assertInvariants(table);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TableInvariantError);
    const error = caught as TableInvariantError;
    expect(error.code).toBe('TABLE_INVARIANT');
    expect(error.violations).toEqual([
      'areas sum to 258 MiB, the budget is 256 MiB',
      'app:A: a hot-standby app falls back to vm-b, got monitor',
    ]);
    expect(error.message).toBe(
      `Resource table at epoch ${table.epoch} breaks 2 invariant(s):\n  areas sum to 258 MiB, the budget is 256 MiB\n  app:A: a hot-standby app falls back to vm-b, got monitor`,
    );
  });
});
