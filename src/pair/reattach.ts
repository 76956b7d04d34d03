// After a daemon restart: find the QEMUs the last daemon launched and take them back without restarting them.
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { deviceIdOf } from '../memory/mechanism.js';
import { queryMemoryDevices, type VirtioMemInfo } from '../qmp/commands.js';
import { checkIdentity, type VmIdentity } from '../recovery/identity.js';
import { appAreaName, type ResourceTable } from '../table/index.js';
import { Machine } from '../vm/machine.js';
import type { PairVm } from './vm-factory.js';

const HELLO_TIMEOUT_MS = 5_000;
const SYNC_TIMEOUT_MS = 3_000;

export interface ReattachResult {
  vms: PairVm[];
  /** VM name → why it counts as gone (never signalled when its pid names another process). */
  gone: Map<string, string>;
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
  const results = await Promise.all(
    identities.map(async (identity): Promise<PairVm | undefined> => {
      const check = checkIdentity(identity);
      if (!check.ok) {
        gone.set(identity.name, check.detail);
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
        const hello = await machine.waitForHello(HELLO_TIMEOUT_MS);
        await machine.agent.sync(randomUUID().slice(0, 32), SYNC_TIMEOUT_MS);
        return { machine, hello, bootMs: 0, forwards: new Map(Object.entries(identity.forwards)) };
      } catch (error) {
        const detail = `its QEMU (pid ${identity.pid}) does not answer: ${(error as Error).message}`;
        gone.set(identity.name, detail);
        log.warn({ vm: identity.name }, `VM cannot be re-attached; stopping it: ${detail}`);
        await machine?.shutdown({ timeoutMs: 1000, keepRunDir: true }).catch(() => undefined);
        return undefined;
      }
    }),
  );
  return {
    vms: results.filter((vm): vm is PairVm => vm !== undefined),
    gone,
    durationMs: performance.now() - startedAtMs,
  };
}

const appListSchema = z.object({
  apps: z.array(z.object({ name: z.string(), pid: z.number(), running: z.boolean() })).max(64),
});

/** The apps the agent runs now (`app.list`), by name → guest pid. */
export async function runningApps(vm: PairVm, timeoutMs = 3_000): Promise<Map<string, number>> {
  const reply = appListSchema.parse(await vm.machine.agent.request('app.list', {}, timeoutMs));
  return new Map(reply.apps.filter((app) => app.running).map((app) => [app.name, app.pid]));
}

/**
 * Compares each app area the table gives `vm` with what QEMU reports plugged in its slot
 * (`query-memory-devices`). Returns one line per difference; the caller logs them.
 */
export async function memoryDrift(
  table: ResourceTable,
  vm: PairVm,
  apps: readonly { name: string; slot: string }[],
): Promise<string[]> {
  const name = vm.machine.spec.name;
  const devices = await queryMemoryDevices(vm.machine.qmp);
  const drift: string[] = [];
  for (const slot of vm.machine.spec.slots) {
    const device = devices.find((d) => d.id === deviceIdOf(slot.id));
    const reported = device?.kind === 'virtio-mem' ? (device as VirtioMemInfo).sizeBytes : 0;
    const app = apps.find((a) => a.slot === slot.id);
    const area = table.areas.find(
      (a) => a.kind === 'app' && a.user === name && app !== undefined && a.name === appAreaName(app.name),
    );
    const expected = area?.pluggedBytes ?? 0;
    if (reported !== expected) {
      drift.push(
        `${name} slot ${slot.id}: table says ${expected} bytes plugged${area === undefined ? '' : ` (${area.name})`}, QEMU reports ${reported}`,
      );
    }
  }
  return drift;
}

/** Removes the run directory of a QEMU that is gone, only when it is a direct child of `runParent`. */
async function removeStaleRunDir(runDir: string, runParent: string | undefined, log: Logger): Promise<void> {
  if (runParent === undefined || dirname(resolve(runDir)) !== resolve(runParent)) return;
  await rm(runDir, { recursive: true, force: true }).catch(() => undefined);
  log.info({ runDir }, 'removed the run directory of a QEMU that is gone');
}
