import { describe, expect, it } from 'vitest';
import {
  appAreaName,
  appAreasOf,
  findArea,
  isVm,
  osAreaName,
  osAreaOf,
  poolBytes,
  spareBytes,
} from '../../../src/table/lookup.js';
import { MiB } from '../../../src/units.js';
import { stateA, stateB, stateC } from './fixtures.js';

describe('area names', () => {
  it('names OS areas os:<vm> and app areas app:<app>', () => {
    expect([osAreaName('vm-a'), appAreaName('kv')]).toEqual(['os:vm-a', 'app:kv']);
  });
});

describe('spareBytes', () => {
  it('is the OS area above the minimum OS size: 128 MiB of 160 in state A', () => {
    expect(spareBytes(stateA(), 'vm-a')).toBe(128 * MiB);
  });

  it('is zero for an OS area at the minimum: the active OS in state B', () => {
    expect(spareBytes(stateB(), 'vm-a')).toBe(0);
  });

  it('is zero for a name that is not a VM of the table', () => {
    expect(spareBytes(stateA(), 'vm-z')).toBe(0);
  });
});

describe('queries', () => {
  it('reads the pool size: 32 MiB in state B, 0 in state C', () => {
    expect([poolBytes(stateB()), poolBytes(stateC())]).toEqual([32 * MiB, 0]);
  });

  it('lists the app areas a VM holds, in table order', () => {
    expect(appAreasOf(stateC(), 'vm-a').map((area) => area.name)).toEqual(['app:A', 'app:B']);
    expect(appAreasOf(stateC(), 'vm-b')).toEqual([]);
  });

  it('finds areas by name and OS areas by VM', () => {
    expect(findArea(stateC(), 'app:B')?.sizeBytes).toBe(32 * MiB);
    expect(findArea(stateC(), 'app:Z')).toBeUndefined();
    expect(osAreaOf(stateC(), 'vm-b')?.name).toBe('os:vm-b');
  });

  it('knows the two VMs of the table and nothing else', () => {
    expect([isVm(stateA(), 'vm-a'), isVm(stateA(), 'vm-b'), isVm(stateA(), 'monitor')]).toEqual([
      true,
      true,
      false,
    ]);
  });
});
