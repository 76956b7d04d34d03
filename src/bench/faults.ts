// The faults a whole-VM scenario injects into the active VM: a guest panic, a SIGKILL of its QEMU, a kernel hang.
import { BenchError } from '../errors.js';
import type { Pair } from '../pair/pair.js';
import type { PairVm } from '../pair/vm-factory.js';

export type WholeVmFault = 'guest-panic' | 'qemu-killed' | 'guest-hang';

/** Injects `fault` into the pair's active VM; resolves once it is under way. */
export async function injectWholeVmFault(pair: Pair, fault: WholeVmFault): Promise<void> {
  const active = activeVmOf(pair);
  if (fault === 'qemu-killed') {
    process.kill(active.machine.pid, 'SIGKILL');
    return;
  }
  if (fault === 'guest-panic') {
    // The guest may panic before its agent replies: no reply is the expected outcome.
    await active.machine.agent.injectPanic(3000).catch(() => undefined);
    return;
  }
  // The kernel may freeze before the agent's reply leaves the guest: no reply is the expected outcome.
  await active.machine.agent.request('fault.hang', {}, 5000).catch(() => undefined);
}

/** The pair's active VM; BenchError when there is none. */
export function activeVmOf(pair: Pair): PairVm {
  const vm = pair.activeVm;
  if (vm === undefined) throw new BenchError('recovery', `the pair has no active VM (state ${pair.state})`);
  return vm;
}
