// Resolves `--accel auto|kvm|tcg` on this host: probes /dev/kvm through the native addon, then decides.
import { loadNative } from '../native/binding.js';
import type { NativeBinding } from '../native/types.js';
import { type AccelDecision, type AccelRequest, decideAccel } from './accel.js';

/** Probes /dev/kvm (unless TCG was asked for) and returns the accelerator with the reason. */
export async function resolveAccel(request: AccelRequest, native?: NativeBinding): Promise<AccelDecision> {
  if (request === 'tcg')
    return decideAccel('tcg', { devicePath: '/dev/kvm', usable: false, reason: 'not probed' });
  const probe = await (native ?? loadNative()).probeKvm();
  return decideAccel(request, probe);
}
