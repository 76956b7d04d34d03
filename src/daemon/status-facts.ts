// What `status` says, derived from facts only: a VM runs when its QEMU runs, an app when its VM does, a pair is protected when both do.
import type { LifecycleState } from '../lifecycle/machine.js';

export type VmState = 'running' | 'exited' | 'booting' | 'absent';
export type AppState = 'running' | 'waiting' | 'down';

/** The facts `status` is derived from, gathered by views.ts from the pair, /proc and the table. */
export interface StatusFacts {
  /** The lifecycle state (lifecycle/machine.ts, itself derived from facts). */
  readonly lifecycle: LifecycleState;
  readonly roles: { readonly active: string; readonly standby: string };
  readonly vms: ReadonlyArray<{
    readonly name: string;
    /** The pair holds a machine for it (booted or re-attached). */
    readonly isAdopted: boolean;
    /** Its QEMU's exit was not seen and /proc still shows the process with the recorded start time. */
    readonly isQemuAlive: boolean;
  }>;
  readonly apps: ReadonlyArray<{
    readonly name: string;
    /** The VM its stable endpoint routes to, if any. */
    readonly routedTo: string | undefined;
    /** Why it runs nowhere, when the pair knows (an ordinary app the pool cannot grant yet). */
    readonly waitingReason: string | undefined;
  }>;
}

export interface DerivedStatus {
  state: LifecycleState;
  vms: Record<string, VmState>;
  apps: Record<string, { state: AppState; reason: string | null }>;
}

export function deriveStatus(facts: StatusFacts): DerivedStatus {
  const vms: Record<string, VmState> = {};
  const isBootPhase = facts.lifecycle === 'booting' || facts.lifecycle === 're-protecting';
  for (const vm of facts.vms) {
    vms[vm.name] = vm.isAdopted
      ? vm.isQemuAlive
        ? 'running'
        : 'exited'
      : isBootPhase
        ? 'booting'
        : 'absent';
  }
  const isWhole = vms[facts.roles.active] === 'running' && vms[facts.roles.standby] === 'running';
  // Never `protected` unless both QEMUs run: a fault not yet reported must not look protected.
  const state = facts.lifecycle === 'protected' && !isWhole ? 'unprotected' : facts.lifecycle;
  const apps: DerivedStatus['apps'] = {};
  for (const app of facts.apps) {
    if (app.routedTo !== undefined) {
      const vmState = vms[app.routedTo] ?? 'absent';
      apps[app.name] =
        vmState === 'running'
          ? { state: 'running', reason: null }
          : { state: 'down', reason: `its VM ${app.routedTo} is ${vmState}` };
      continue;
    }
    const reason =
      app.waitingReason ??
      (state === 'failing-over' || state === 'moving'
        ? 'a failover is under way'
        : state === 'blocked'
          ? 'the pair is blocked'
          : 'not placed on a VM yet');
    apps[app.name] = { state: 'waiting', reason };
  }
  return { state, vms, apps };
}
