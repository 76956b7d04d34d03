import { describe, expect, it } from 'vitest';
import { TableInvariantError, TableRequestError } from '../../../src/errors.js';
import { type CreateTableRequest, createTable } from '../../../src/table/create.js';
import { MiB } from '../../../src/units.js';
import { rowsInMiB } from './fixtures.js';

const request: CreateTableRequest = {
  budgetBytes: 512 * MiB,
  blockBytes: 2 * MiB,
  roles: { active: 'vm-a', standby: 'vm-b' },
  osAreas: [
    { vm: 'vm-a', sizeBytes: 160 * MiB },
    { vm: 'vm-b', sizeBytes: 32 * MiB },
  ],
  monitorBytes: 32 * MiB,
  osMinBytes: 32 * MiB,
};

describe('createTable', () => {
  it('makes the rest of the budget the pool', () => {
    expect(rowsInMiB(createTable(request).table)).toEqual([
      ['os:vm-a', 160, 'vm-a', 'vm-a'],
      ['os:vm-b', 32, 'vm-b', 'vm-b'],
      ['monitor', 32, 'monitor', 'monitor'],
      ['pool', 288, 'monitor', 'monitor'],
    ]);
  });

  it('starts at epoch 1 with the given roles, budget, block and minimum OS size', () => {
    const { table } = createTable(request);
    expect(table).toMatchObject({
      epoch: 1,
      roles: { active: 'vm-a', standby: 'vm-b' },
      budgetBytes: 512 * MiB,
      blockBytes: 2 * MiB,
      osMinBytes: 32 * MiB,
    });
  });

  it('marks every area requested at its size and never observed', () => {
    for (const area of createTable(request).table.areas) {
      expect(area.requestedBytes).toBe(area.sizeBytes);
      expect(area.pluggedBytes).toBe(0);
      expect(area.observedAtMs).toBeUndefined();
    }
  });

  it('gives an empty pool when the OS areas and the monitor take the whole budget', () => {
    const { table } = createTable({ ...request, budgetBytes: 224 * MiB });
    expect(table.areas.at(-1)).toMatchObject({ name: 'pool', sizeBytes: 0 });
  });

  it('refuses OS areas and a monitor that exceed the budget', () => {
    const create = () => createTable({ ...request, budgetBytes: 200 * MiB });
    expect(create).toThrow(TableRequestError);
    expect(create).toThrow(
      'Cannot create the resource table: OS areas (192 MiB) and the monitor (32 MiB) need 224 MiB, the budget is 200 MiB',
    );
  });

  it('refuses an OS area that is not a whole multiple of the block', () => {
    const osAreas = [
      { vm: 'vm-a', sizeBytes: 161 * MiB },
      { vm: 'vm-b', sizeBytes: 32 * MiB },
    ];
    const create = () => createTable({ ...request, osAreas });
    expect(create).toThrow(TableInvariantError);
    expect(create).toThrow('os:vm-a: size 161 MiB is not a whole multiple of the 2 MiB block');
  });

  it('refuses a role VM without an OS area', () => {
    const create = () => createTable({ ...request, osAreas: [{ vm: 'vm-a', sizeBytes: 160 * MiB }] });
    expect(create).toThrow('expected exactly one OS area for vm-b, found 0');
  });

  it('refuses an OS area smaller than the minimum OS size', () => {
    const create = () => createTable({ ...request, osMinBytes: 64 * MiB });
    expect(create).toThrow('os:vm-b: 32 MiB is below the 64 MiB minimum OS size');
  });
});
