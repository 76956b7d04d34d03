// After a daemon restart: find the QEMUs the last daemon launched and take them back without restarting them.
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { deviceIdOf } from '../memory/mechanism.js';
import { queryMemoryDevices, queryStatus, type VirtioMemInfo } from '../qmp/commands.js';
import { checkIdentity, type VmIdentity } from '../recovery/identity.js';
import { killAndWait } from '../recovery/launches.js';
import { appAreaName, type ResourceTable } from '../table/index.js';
import { Machine } from '../vm/machine.js';
import type { PairVm } from './vm-factory.js';

// A re-attach that gives up kills the VM, so a guest slowed by a busy host (TCG) gets time to
// answer; a panicked guest is known at once from QMP and does not wait for this.
const HELLO_TIMEOUT_MS = 15_000;
const SYNC_TIMEOUT_MS = 3_000;

export interface ReattachResult {
  vms: PairVm[];
  /** VM name → why it counts as gone (never signalled when its pid names another process). */
  gone: Map<string, string>;
  /** VM name → the fault it showed: its QEMU exited, its guest panicked, or it did not answer. */
  faults: Map<string, 'qemu-exit' | 'GUEST_PANICKED' | 'hang'>;
  durationMs: number;
}

/**
 * For each recorded VM: the pid must be alive, started at the recorded time, and name the run
 * directory on its command line; then QMP and the agent are connected, the agent's hello awaited
 * and a `sync` with a fresh nonce echoed. A VM that fails the identity check is gone and is never
 * signalled; one that is ours but does not answer is killed (after the start time is checked again).
 */
export async function reattachVms(
  identities: readonly VmIdentity[],
  log: Logger,
  runParent?: string,
): Promise<ReattachResult> {
  const startedAtMs = performance.now();
  const gone = new Map<string, string>();
  const faults: ReattachResult['faults'] = new Map();
  const results = await Promise.all(
    identities.map(async (identity): Promise<PairVm | undefined> => {
      const check = checkIdentity(identity);
      if (!check.ok) {
        gone.set(identity.name, check.detail);
        faults.set(identity.name, 'qemu-exit');
        log.warn({ vm: identity.name, pid: identity.pid, reason: check.reason }, `VM gone: ${check.detail}`);
        await removeStaleRunDir(identity.runDir, runParent, log);
        return undefined;
      }
      let machine: Machine | undefined;
      try {
        machine = await Machine.attach(
          { ...identity.spec, runDir: identity.runDir },
          { pid: identity.pid, startTime: identity.startTime, log },
        );
        // A panicked guest is paused by QEMU (-action panic=pause): no hello will come, say so now.
        if ((await runStateOf(machine.qmp, SYNC_TIMEOUT_MS)) === 'guest-panicked')
          throw new Error('QEMU reports the guest panicked');
        const hello = await machine.waitForHello(HELLO_TIMEOUT_MS);
        await machine.agent.sync(randomUUID().slice(0, 32), SYNC_TIMEOUT_MS);
        return { machine, hello, bootMs: 0, forwards: new Map(Object.entries(identity.forwards)) };
      } catch (error) {
        // A guest that panicked (QEMU pauses it: -action panic=pause) says so; else it is hung.
        const runState = await runStateOf(machine?.qmp, SYNC_TIMEOUT_MS);
        const isPanicked = runState === 'guest-panicked';
        const detail = `its QEMU (pid ${identity.pid}) does not answer${isPanicked ? ' (its guest panicked)' : ''}: ${(error as Error).message}`;
        gone.set(identity.name, detail);
        faults.set(identity.name, isPanicked ? 'GUEST_PANICKED' : 'hang');
        log.warn({ vm: identity.name }, `VM cannot be re-attached; stopping it: ${detail}`);
        // Stopped for good (its exit seen): nothing of it is left behind, run directory included.
        if (machine !== undefined) await machine.shutdown({ timeoutMs: 1000 }).catch(() => undefined);
        else await killAndWait(identity.pid, identity.startTime).catch(() => undefined);
        return undefined;
      }
    }),
  );
  return {
    vms: results.filter((vm): vm is PairVm => vm !== undefined),
    gone,
    faults,
    durationMs: performance.now() - startedAtMs,
  };
}

/** QEMU's run state through `qmp`, or undefined when it does not answer within `timeoutMs`. */
async function runStateOf(qmp: Machine['qmp'] | undefined, timeoutMs: number): Promise<string | undefined> {
  if (qmp === undefined) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    return await Promise.race([
      queryStatus(qmp).then(
        (status) => status.runState,
        () => undefined,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const appListSchema = z.object({
  apps: z.array(z.object({ name: z.string(), pid: z.number(), running: z.boolean() })).max(64),
});

/** The apps the agent runs now (`app.list`), by name → guest pid. */
export async function runningApps(vm: PairVm, timeoutMs = 3_000): Promise<Map<string, number>> {
  const reply = appListSchema.parse(await vm.machine.agent.request('app.list', {}, timeoutMs));
  return new Map(reply.apps.filter((app) => app.running).map((app) => [app.name, app.pid]));
}

/** One slot whose plugged size differs between the table and QEMU. */
export interface SlotDrift {
  vm: string;
  slot: string;
  /** The app configured on that slot, if any. */
  app: string | undefined;
  /** The table's area for that app on this VM (none: the table gives this VM nothing there). */
  area: string | undefined;
  tableBytes: number;
  qemuBytes: number;
}

/** One line for the log: what the table says of the slot and what QEMU reports. */
export function describeDrift(drift: SlotDrift): string {
  return `${drift.vm} slot ${drift.slot}: table says ${drift.tableBytes} bytes plugged${drift.area === undefined ? '' : ` (${drift.area})`}, QEMU reports ${drift.qemuBytes}`;
}

/**
 * Compares each app area the table gives `vm` with what QEMU reports plugged in its slot
 * (`query-memory-devices`). Returns each slot where they differ.
 */
export async function memoryDrift(
  table: ResourceTable,
  vm: PairVm,
  apps: readonly { name: string; slot: string }[],
): Promise<SlotDrift[]> {
  const name = vm.machine.spec.name;
  const devices = await queryMemoryDevices(vm.machine.qmp);
  const drift: SlotDrift[] = [];
  for (const slot of vm.machine.spec.slots) {
    const device = devices.find((d) => d.id === deviceIdOf(slot.id));
    const qemuBytes = device?.kind === 'virtio-mem' ? (device as VirtioMemInfo).sizeBytes : 0;
    const app = apps.find((a) => a.slot === slot.id);
    const area = table.areas.find(
      (a) => a.kind === 'app' && a.user === name && app !== undefined && a.name === appAreaName(app.name),
    );
    const tableBytes = area?.pluggedBytes ?? 0;
    if (qemuBytes !== tableBytes)
      drift.push({ vm: name, slot: slot.id, app: app?.name, area: area?.name, tableBytes, qemuBytes });
  }
  return drift;
}

/** Removes the run directory of a QEMU that is gone, only when it is a direct child of `runParent`. */
async function removeStaleRunDir(runDir: string, runParent: string | undefined, log: Logger): Promise<void> {
  if (runParent === undefined || dirname(resolve(runDir)) !== resolve(runParent)) return;
  await rm(runDir, { recursive: true, force: true }).catch(() => undefined);
  log.info({ runDir }, 'removed the run directory of a QEMU that is gone');
}
