// After a re-attach: QEMU's memory devices set back to what the table records (the table is the truth).
import type { Logger } from '../log.js';
import { type MemoryMechanism, targetOf } from '../memory/mechanism.js';
import type { ResourceTable } from '../table/index.js';
import type { AppConfig } from './config.js';
import { describeDrift, memoryDrift, runningApps, type SlotDrift } from './reattach.js';
import type { PairVm } from './vm-factory.js';

/** What reconciling reads of the pair. */
export interface ReconcileHost {
  readonly log: Logger;
  readonly mechanism: MemoryMechanism;
  readonly vms: ReadonlyMap<string, PairVm>;
  readonly table: ResourceTable;
  readonly config: { readonly apps: readonly AppConfig[] };
}

/**
 * Compares each slot with the table and resizes the slots that differ to the table's size. The
 * difference was left by a daemon killed between a plug and its commit (a grant, an ordinary app's
 * start: QEMU holds more) or between an unplug and its commit (QEMU holds less); the requester of
 * an uncommitted change never got its answer, so the table's size is the one to keep. An app that
 * runs in a slot where the table gives its VM no area is stopped first: it starts again through the
 * table. A slot that cannot be resized is logged as drift, with the reason.
 */
export async function reconcileMemory(host: ReconcileHost): Promise<void> {
  for (const vm of host.vms.values()) {
    const name = vm.machine.spec.name;
    let drift: SlotDrift[];
    try {
      drift = await memoryDrift(host.table, vm, host.config.apps);
    } catch (error) {
      host.log.warn(
        { vm: name },
        `table drift after re-attach: ${name}: query-memory-devices failed: ${(error as Error).message}`,
      );
      continue;
    }
    for (const slot of drift) {
      const problem = await resizeToTable(host, vm, slot);
      if (problem === undefined)
        host.log.warn(
          { vm: name, slot: slot.slot },
          `memory the table does not record after re-attach: ${describeDrift(slot)}; set to the table's ${slot.tableBytes} bytes`,
        );
      else
        host.log.warn(
          { vm: name },
          `table drift after re-attach: ${describeDrift(slot)}; not resized: ${problem}`,
        );
    }
  }
}

/** Stops the slot's app when the table gives it no area on `vm` and it runs there, then resizes the slot. The problem, or undefined once done. */
async function resizeToTable(host: ReconcileHost, vm: PairVm, slot: SlotDrift): Promise<string | undefined> {
  try {
    if (slot.area === undefined && slot.app !== undefined && (await runningApps(vm)).has(slot.app)) {
      host.log.warn(
        { app: slot.app, vm: slot.vm },
        'an app runs where the table gives it no area: stopping it',
      );
      await vm.machine.agent.appStop(slot.app, 10_000);
    }
    const target = targetOf(vm.machine);
    if (slot.tableBytes === 0) await host.mechanism.unplug(target, slot.slot);
    else await host.mechanism.plug(target, slot.slot, slot.tableBytes);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
