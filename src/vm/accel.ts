// Chooses the accelerator (KVM or TCG) from the user's request and the /dev/kvm probe, and says why.
import { InvalidInputError } from '../errors.js';
import type { Accel } from './spec.js';

export type AccelRequest = 'auto' | Accel;

/** What the decision needs from the native probe (a subset of KvmProbe). */
export interface KvmFacts {
  devicePath: string;
  usable: boolean;
  reason: string;
}

export interface AccelDecision {
  accel: Accel;
  reason: string;
}

export function parseAccelRequest(text: string): AccelRequest {
  if (text === 'auto' || text === 'kvm' || text === 'tcg') return text;
  throw new InvalidInputError(`Invalid accelerator: expected auto, kvm or tcg, got '${text}'`);
}

/**
 * Pure decision. `auto` takes KVM when the probe says a stock kernel runs under it, else TCG;
 * `kvm` insists (and fails with the probe's reason when it cannot); `tcg` always gets TCG.
 */
export function decideAccel(request: AccelRequest, kvm: KvmFacts): AccelDecision {
  if (request === 'tcg') return { accel: 'tcg', reason: 'TCG requested (--accel tcg)' };
  if (kvm.usable) {
    const how = request === 'kvm' ? 'requested (--accel kvm)' : 'chosen automatically';
    return { accel: 'kvm', reason: `KVM ${how}: ${kvm.reason}` };
  }
  if (request === 'kvm') {
    throw new InvalidInputError(
      `KVM was requested but is not usable: ${kvm.reason}. Use --accel auto or --accel tcg`,
    );
  }
  return { accel: 'tcg', reason: `TCG chosen automatically: ${kvm.reason}` };
}
