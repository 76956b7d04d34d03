// The resource table's types: one row per memory area, who holds it now and where it goes on failure.

/** What an area is for: a VM's own OS memory, the monitor's own memory, an app's memory, or unused. */
export type AreaKind = 'os' | 'monitor' | 'app' | 'pool';

/** Who reported an area's plugged size: QEMU (`query-memory-devices`), the guest agent, or a plan step. */
export type ObservationSource = 'qmp' | 'agent' | 'plan';

/** The holder that is not a VM: the host daemon, which keeps the monitor area and the pool. */
export const MONITOR = 'monitor';

/** One row of the table. `user` and `onFailure` are a VM name or `monitor`. */
export interface Area {
  readonly name: string;
  readonly kind: AreaKind;
  /** The area's share of the budget: what the table accounts to it. */
  readonly sizeBytes: number;
  /** Who holds the area now. */
  readonly user: string;
  /** Who gets the area when its user fails: the standby VM for a hot-standby app, else `monitor`. */
  readonly onFailure: string;
  /** What baton has asked the memory mechanism for; every table operation keeps it equal to sizeBytes. */
  readonly requestedBytes: number;
  /** What was last observed plugged; 0 with no observedAtMs means never observed on the current user. */
  readonly pluggedBytes: number;
  readonly observedAtMs?: number;
  readonly observedBy?: ObservationSource;
  /** App areas: the memory slot (virtio-mem device) holding the app's memory, the same id in both VMs. */
  readonly slot?: string;
  /** App areas: true when the app is restarted on the standby after a failure (seed claim 8). */
  readonly hotStandby?: boolean;
}

/** Which VM is which right now; roles swap after a whole-VM failover. */
export interface Roles {
  readonly active: string;
  readonly standby: string;
}

/** The whole table: an immutable value; every change returns a new table with `epoch + 1`. */
export interface ResourceTable {
  readonly epoch: number;
  /** The host memory budget from the config; the areas always sum to it. */
  readonly budgetBytes: number;
  /** Memory block size (virtio-mem: 2 MiB); every size is a whole multiple of it. */
  readonly blockBytes: number;
  /** The smallest an OS area may shrink to: what the guest OS itself needs (figure 4: 32 MiB). */
  readonly osMinBytes: number;
  readonly roles: Roles;
  readonly areas: readonly Area[];
}

/** What every table operation returns. */
export interface TableResult {
  readonly table: ResourceTable;
}
