import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/errors.js';
import { decideAccel, parseAccelRequest } from '../../../src/vm/accel.js';

const pvmOnly = {
  devicePath: '/dev/kvm',
  usable: false,
  reason: '/dev/kvm is served by kvm_pvm (a PVM-only KVM) and neither kvm_intel nor kvm_amd is loaded',
};
const intel = { devicePath: '/dev/kvm', usable: true, reason: 'kvm_intel is loaded' };

describe('decideAccel', () => {
  it('falls back to TCG on auto when KVM is not usable, quoting the probe', () => {
    expect(decideAccel('auto', pvmOnly)).toEqual({
      accel: 'tcg',
      reason: `TCG chosen automatically: ${pvmOnly.reason}`,
    });
  });

  it('takes KVM on auto when the probe says it is usable', () => {
    expect(decideAccel('auto', intel)).toEqual({
      accel: 'kvm',
      reason: 'KVM chosen automatically: kvm_intel is loaded',
    });
  });

  it('refuses an explicit kvm request on a host where KVM is not usable', () => {
    expect(() => decideAccel('kvm', pvmOnly)).toThrow(InvalidInputError);
    expect(() => decideAccel('kvm', pvmOnly)).toThrow(
      /^KVM was requested but is not usable: .*kvm_pvm.*Use --accel auto or --accel tcg$/,
    );
  });

  it('honours an explicit tcg request even where KVM works', () => {
    expect(decideAccel('tcg', intel).accel).toBe('tcg');
  });

  it('parses the three accepted values and refuses others', () => {
    expect(['auto', 'kvm', 'tcg'].map(parseAccelRequest)).toEqual(['auto', 'kvm', 'tcg']);
    expect(() => parseAccelRequest('hvf')).toThrow(
      "Invalid accelerator: expected auto, kvm or tcg, got 'hvf'",
    );
  });
});
