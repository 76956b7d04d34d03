import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/config/defaults.js';
import { loadConfig, toPairConfig } from '../../../src/config/load.js';
import { checkRules } from '../../../src/config/rules.js';
import { defaultPairConfig } from '../../../src/pair/config.js';
import { MiB } from '../../../src/units.js';

describe('built-in default config', () => {
  it('is what contrib/baton.yaml parses to', async () => {
    expect(await loadConfig('contrib/baton.yaml')).toStrictEqual(DEFAULT_CONFIG);
  });

  it('gives the same pair as defaultPairConfig', () => {
    expect(toPairConfig(DEFAULT_CONFIG)).toStrictEqual(defaultPairConfig(DEFAULT_CONFIG.stateDir));
  });

  it('keeps every cross-field rule', () => {
    expect(checkRules(DEFAULT_CONFIG)).toEqual([]);
  });

  it('is the demo pair: two 96 MiB VMs, a 736 MiB budget, kvd hot-standby with a 64 MiB disk, cache ordinary', () => {
    expect(DEFAULT_CONFIG.budgetBytes).toBe(736 * MiB);
    expect(DEFAULT_CONFIG.vms).toMatchObject({ names: ['vm-a', 'vm-b'], baseMemoryBytes: 96 * MiB });
    expect(DEFAULT_CONFIG.apps).toMatchObject([
      { name: 'kvd', slot: 'slot0', memoryBytes: 128 * MiB, hotStandby: true, dataDiskBytes: 64 * MiB },
      { name: 'cache', slot: 'slot1', memoryBytes: 32 * MiB, slotMaxBytes: 128 * MiB, hotStandby: false },
    ]);
    expect(DEFAULT_CONFIG.apps[1]).not.toHaveProperty('dataDiskBytes');
  });

  it('cannot be changed', () => {
    expect(Object.isFrozen(DEFAULT_CONFIG)).toBe(true);
    expect(Object.isFrozen(DEFAULT_CONFIG.apps[0]?.health)).toBe(true);
    expect(Object.isFrozen(DEFAULT_CONFIG.vms.names)).toBe(true);
  });
});
