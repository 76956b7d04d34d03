import { describe, expect, it } from 'vitest';
import type { NativeBinding } from '../../../src/native/types.js';
import { resolveAccel } from '../../../src/vm/host-accel.js';

/** A native binding whose only probe answers `usable` with `reason`, and counts its calls. */
function probing(usable: boolean, reason: string) {
  const calls: string[] = [];
  const native = {
    probeKvm: async (devicePath?: string) => {
      calls.push(devicePath ?? '/dev/kvm');
      return { devicePath: '/dev/kvm', usable, reason };
    },
  } as unknown as NativeBinding;
  return { native, calls };
}

describe('resolving --accel on this host', () => {
  it('does not probe /dev/kvm when TCG was asked for', async () => {
    const { native, calls } = probing(true, 'KVM API 12');
    await expect(resolveAccel('tcg', native)).resolves.toEqual({
      accel: 'tcg',
      reason: 'TCG requested (--accel tcg)',
    });
    expect(calls).toEqual([]);
  });

  it('chooses KVM when the probe finds it usable, and TCG with the probe’s reason when not', async () => {
    await expect(resolveAccel('auto', probing(true, 'KVM API 12').native)).resolves.toEqual({
      accel: 'kvm',
      reason: 'KVM chosen automatically: KVM API 12',
    });
    await expect(resolveAccel('auto', probing(false, '/dev/kvm is missing').native)).resolves.toEqual({
      accel: 'tcg',
      reason: 'TCG chosen automatically: /dev/kvm is missing',
    });
  });

  it('refuses --accel kvm when KVM is not usable, with the reason', async () => {
    await expect(resolveAccel('kvm', probing(false, '/dev/kvm is missing').native)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'KVM was requested but is not usable: /dev/kvm is missing. Use --accel auto or --accel tcg',
    });
  });

  it('through the real addon, gives the probe’s verdict on this host with its reason', async () => {
    const decision = await resolveAccel('auto');
    // This host may or may not have a usable /dev/kvm: the decision must say which, and why.
    expect(decision.reason).toMatch(
      decision.accel === 'kvm' ? /^KVM chosen automatically: / : /^TCG chosen automatically: /,
    );
  });
});
