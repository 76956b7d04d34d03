// Acting on the faults held during maintenance (or a switchover) once failovers are allowed again: each is re-checked against the VM first.
import type { AppMoveTrigger, FailoverTrigger } from '../failover/context.js';
import type { Logger } from '../log.js';
import type { FailoverRecord } from '../state/history.js';
import type { HeldFault } from './maintenance.js';
import { runningApps } from './reattach.js';
import type { PairVm } from './vm-factory.js';

export interface ReleaseHost {
  readonly log: Logger;
  readonly vms: ReadonlyMap<string, PairVm>;
  onFault(trigger: FailoverTrigger): Promise<FailoverRecord | undefined>;
  moveApp(app: string, trigger: AppMoveTrigger): Promise<FailoverRecord>;
}

/**
 * Whether a held fault still stands, from the VM's facts now:
 * - a VM fault stands when the VM is no longer the pair's, its QEMU has exited, or its agent has
 *   sent no heartbeat since the fault (a panicked or hung guest sends none; a guest rebooted by
 *   the operator for its patch is beating again and the fault is over);
 * - an app fault stands when the app does not run on that VM (asked of its agent).
 */
export async function isStillFaulty(host: Pick<ReleaseHost, 'vms'>, fault: HeldFault): Promise<boolean> {
  const vm = host.vms.get(fault.vm);
  if (vm === undefined || !vm.machine.isRunning) return true;
  if (fault.app === undefined) return (vm.machine.agent.lastHeartbeatAtMs ?? 0) <= fault.detectedAtMs;
  const running = await runningApps(vm).catch(() => undefined);
  return running === undefined || !running.has(fault.app);
}

/** Hands each held fault that still stands to the pair, oldest first; the rest are logged as over. */
export async function releaseHeldFaults(host: ReleaseHost, held: readonly HeldFault[]): Promise<void> {
  for (const fault of held) {
    if (!(await isStillFaulty(host, fault))) {
      host.log.warn({ ...fault }, 'held fault is over (the VM recovered): nothing to do');
      continue;
    }
    host.log.warn({ ...fault }, 'acting on a fault held during maintenance');
    const detectedAtMs = performance.now();
    if (fault.app !== undefined && fault.action === 'move-app') {
      await host
        .moveApp(fault.app, { reason: `${fault.reason} (held during maintenance)`, detectedAtMs })
        .catch((error: Error) => host.log.error({ app: fault.app, err: error.message }, 'held move refused'));
    } else {
      const signal = fault.signal === 'app-exit' ? 'request' : fault.signal;
      await host.onFault({ vm: fault.vm, signal, detectedAtMs });
    }
  }
}
