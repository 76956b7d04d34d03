// The one memory grant, for `baton request` and for an agent's mem.request: the area grows from the pool, the slot is plugged, the table committed.
import { ConflictError, InvalidInputError, NotFoundError, QmpDisconnectedError } from '../errors.js';
import type { Logger } from '../log.js';
import { type MemoryMechanism, targetOf } from '../memory/mechanism.js';
import {
  appAreaName,
  findArea,
  grantFromPool,
  type ResourceTable,
  recordObserved,
  startApp,
} from '../table/index.js';
import { formatBytes } from '../units.js';
import type { PairConfig } from './config.js';
import type { PairVm } from './vm-factory.js';

/** What a grant reads of the pair, and the one method it changes the table through. */
export interface GrantHost {
  readonly config: PairConfig;
  readonly log: Logger;
  readonly mechanism: MemoryMechanism;
  readonly vms: ReadonlyMap<string, PairVm>;
  readonly table: ResourceTable;
  /** Applies `change` to the table current at that moment and returns the result. */
  commitTable(change: (table: ResourceTable) => ResourceTable): ResourceTable;
}

export interface Granted {
  /** What was added, rounded up to whole blocks. */
  grantedBytes: number;
  /** The app's area size now. */
  sizeBytes: number;
  epoch: number;
}

/**
 * Grows `app`'s area by `extraBytes` (rounded up to whole blocks) from the pool, or carves an
 * ordinary app's first area, and plugs its slot to the new size. `vm`: the VM the request came
 * from (an agent's channel; never the message), which must own the area. Checks, in order: the
 * app is known and runs, the table grants it (the pool has the memory), its slot can hold it.
 * The table change is applied to the table current when the plug is done, so a failover or a
 * grant committed meanwhile is kept; when it no longer applies, the slot is set back and the
 * refusal thrown. A VM that fails while its slot is plugged (a failover fences it) refuses the
 * grant too (ConflictError, the QMP error as its cause). Refusals are BatonErrors with the sizes in MiB.
 */
export async function grantMemory(
  host: GrantHost,
  request: { app: string; extraBytes: number; vm?: string },
): Promise<Granted> {
  const refusal = `Cannot grant memory to ${request.app}`;
  const app = host.config.apps.find((a) => a.name === request.app);
  if (app === undefined) throw new NotFoundError(`${refusal}: no app ${request.app} is configured`);
  const blockBytes = host.table.blockBytes;
  const bytes = Math.ceil(request.extraBytes / blockBytes) * blockBytes;
  const area = findArea(host.table, appAreaName(app.name));
  if (bytes <= 0)
    throw new InvalidInputError(
      `${refusal}: it has ${formatBytes(area?.sizeBytes ?? 0)} already, ask for more than that`,
    );
  const vmName = request.vm ?? area?.user;
  if (vmName === undefined) throw new ConflictError(`${refusal}: ${app.name} is not running`);
  if (area !== undefined && area.user !== vmName)
    throw new ConflictError(`${refusal}: its area belongs to ${area.user}, not ${vmName}`);
  const vm = host.vms.get(vmName);
  if (vm === undefined) throw new ConflictError(`${refusal}: ${vmName} is not running`);
  const change = (table: ResourceTable): ResourceTable => {
    const now = findArea(table, appAreaName(app.name));
    if ((now?.user ?? vmName) !== vmName)
      throw new ConflictError(`${refusal}: it moved to ${now?.user} while its memory was plugged`);
    return now === undefined
      ? startApp(table, {
          app: app.name,
          vm: vmName,
          sizeBytes: bytes,
          hotStandby: app.hotStandby,
          slot: app.slot,
        }).table
      : grantFromPool(table, { app: app.name, bytes }).table;
  };
  change(host.table); // The table's refusal (the pool's size), before anything is plugged.
  const sizeBytes = (area?.sizeBytes ?? 0) + bytes;
  if (sizeBytes > app.slotMaxBytes)
    throw new ConflictError(
      `${refusal}: ${app.name} asked for ${formatBytes(bytes)} more, its slot holds at most ${formatBytes(app.slotMaxBytes)}`,
    );
  const plugged = await host.mechanism
    .plug(targetOf(vm.machine), app.slot, sizeBytes)
    .catch((error: unknown) => {
      if (vm.machine.isRunning && !(error instanceof QmpDisconnectedError)) throw error;
      throw new ConflictError(`${refusal}: ${vmName} failed while its slot was plugged`, { cause: error });
    });
  try {
    const table = host.commitTable(
      (current) =>
        recordObserved(change(current), {
          area: appAreaName(app.name),
          pluggedBytes: plugged.pluggedBytes,
          atMs: plugged.observedAtMs,
          by: 'qmp',
        }).table,
    );
    return { grantedBytes: bytes, sizeBytes, epoch: table.epoch };
  } catch (error) {
    // The table moved on while the slot was plugged: give the memory back so the table matches QEMU.
    await host.mechanism
      .plug(targetOf(vm.machine), app.slot, area?.sizeBytes ?? 0)
      .catch((undo: Error) =>
        host.log.error(
          { app: app.name, err: undo.message },
          'setting the slot back after a refused grant failed',
        ),
      );
    throw error;
  }
}

/**
 * The grants under way, by app, and the one door to grantMemory: a grant refused by `refusalOf`
 * (an operation moves the app now) never starts; a move or switchover asks `isGranting` first.
 */
export class GrantGate {
  private readonly underWay = new Map<string, number>();

  /** A grant to `app` is under way (its slot being plugged). */
  isGranting(app: string): boolean {
    return (this.underWay.get(app) ?? 0) > 0;
  }

  /** Grants through grantMemory unless `refusal` (computed now) says why not: then ConflictError. */
  async grant(
    host: GrantHost,
    request: { app: string; extraBytes: number; vm?: string },
    refusal: string | undefined,
  ): Promise<Granted> {
    if (refusal !== undefined) throw new ConflictError(`Cannot grant memory to ${request.app}: ${refusal}`);
    this.underWay.set(request.app, (this.underWay.get(request.app) ?? 0) + 1);
    try {
      return await grantMemory(host, request);
    } finally {
      this.underWay.set(request.app, (this.underWay.get(request.app) ?? 1) - 1);
    }
  }
}
