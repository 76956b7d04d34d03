// The narrow context a failover executor acts through, built from the pair's parts (the pair itself is never handed out).
import type { StableEndpoint } from '../endpoint/proxy.js';
import { WaitTimeoutError } from '../errors.js';
import type { FailoverContext, OperationJournal } from '../failover/context.js';
import { fenceMachine } from '../failover/fence.js';
import type { Logger } from '../log.js';
import { type MemoryMechanism, targetOf } from '../memory/mechanism.js';
import type { FailoverKind, FailoverRecord } from '../state/history.js';
import { appAreaName, findArea, type ResourceTable } from '../table/index.js';
import { appStartTimeoutMs, isReadyReportedByAgent } from './app-ready.js';
import type { AppConfig, PairConfig } from './config.js';
import type { DataDisk } from './disk.js';
import { detachDataDisk } from './disk-detach.js';
import { waitForHealthy } from './health.js';
import type { PairPersistence } from './persist.js';
import { appStartRequest, waitForGuestNode } from './place-app.js';
import { runningApps } from './reattach.js';
import { noteStarted, type Supervision } from './supervise.js';
import { undoJournal } from './undo-journal.js';
import { attachDiskAgain, DISK_DETACH_TIMEOUT_MS, diskPortOf, stopApp } from './vm-actions.js';
import type { PairVm } from './vm-factory.js';

/** What the context reads from the pair, and the pair's methods it calls to change it. */
export interface ContextHost {
  readonly config: PairConfig;
  readonly log: Logger;
  readonly mechanism: MemoryMechanism;
  readonly vms: ReadonlyMap<string, PairVm>;
  readonly disks: ReadonlyMap<string, DataDisk>;
  readonly endpoints: ReadonlyMap<string, StableEndpoint>;
  readonly supervision: Supervision;
  readonly persistence: PairPersistence | undefined;
  readonly table: ResourceTable;
  commitFailover(kind: FailoverKind, from: string, change: (table: ResourceTable) => ResourceTable): void;
  keepRecord(record: FailoverRecord): void;
  block(reason: string): void;
}

/**
 * `extraVms`: VMs the pair has not adopted (the old active a resumed failover fences). A disk
 * goes on the root port that holds it already, or on a free one, as QEMU reports them.
 */
export function failoverContext(
  host: ContextHost,
  options: { extraVms?: ReadonlyMap<string, PairVm> } = {},
): FailoverContext {
  /** Per `<vm>/<app>`: the app.ready listener armed by startApp for waitHealthy. */
  const readiness = new Map<string, { wait(timeoutMs: number, what: string): Promise<void> }>();
  const vmOf = (name: string): PairVm => {
    const vm = host.vms.get(name) ?? options.extraVms?.get(name);
    if (vm === undefined) throw new Error(`${name} is not running`);
    return vm;
  };
  const appOf = (name: string): AppConfig => {
    const app = host.config.apps.find((a) => a.name === name);
    if (app === undefined) throw new Error(`no app ${name} in the config`);
    return app;
  };
  const nodeOf = (vm: PairVm, app: AppConfig) =>
    vm.machine.spec.slots.findIndex((s) => s.id === app.slot) + 1;
  const diskOf = (app: string): DataDisk => {
    const disk = host.disks.get(app);
    if (disk === undefined) throw new Error(`${app} has no data disk`);
    return disk;
  };
  return {
    log: host.log,
    journal: journalOf(host.persistence, host.log),
    isFaultInjectionAllowed: host.config.isFaultInjectionAllowed === true,
    fence: async (name) => {
      const adopted = host.vms.get(name);
      if (adopted !== undefined) return void (await fenceMachine(adopted.machine, { log: host.log }));
      const extra = options.extraVms?.get(name);
      if (extra === undefined) return;
      await fenceMachine(extra.machine, { log: host.log });
      // Not the pair's VM (an old active a resumed failover found alive): nobody else cleans its run directory.
      await extra.machine.shutdown({ timeoutMs: 500 });
    },
    stopApp: (vm, app) => stopApp(vmOf(vm), app),
    isAppRunning: async (vm, app) => (await runningApps(vmOf(vm))).has(app),
    plug: async (vm, app, sizeBytes) =>
      (await host.mechanism.plug(targetOf(vmOf(vm).machine), appOf(app).slot, sizeBytes)).pluggedBytes,
    unplug: async (vm, app) => {
      await host.mechanism.unplug(targetOf(vmOf(vm).machine), appOf(app).slot);
    },
    confirm: async (vm, app, sizeBytes) => {
      await waitForGuestNode(vmOf(vm), nodeOf(vmOf(vm), appOf(app)), sizeBytes, 10_000);
    },
    // A node or device already there counts as attached, on a first run as on a redo: it is ours.
    attachDisk: async (vm, app) => attachDiskAgain(vmOf(vm), diskOf(app), await diskPortOf(vmOf(vm), app)),
    detachDisk: (vm, app) => detachDataDisk(vmOf(vm).machine, diskOf(app), DISK_DETACH_TIMEOUT_MS),
    startApp: async (vm, app, sizeBytes) => {
      const config = appOf(app);
      const target = vmOf(vm);
      // A tcp, http or exec check is judged by the agent: its app.ready is listened for before the
      // start, since the reply and app.ready may come in one read (app-ready.ts).
      if (isReadyReportedByAgent(config)) readiness.set(`${vm}/${app}`, readyFrom(target, app));
      await target.machine.agent.appStart(
        appStartRequest(config, nodeOf(target, config), host.disks.get(app), sizeBytes),
        appStartTimeoutMs(config),
      );
    },
    waitHealthy: async (vm, app) => {
      const config = appOf(app);
      const what = `${app} on ${vm}`;
      const ready = readiness.get(`${vm}/${app}`);
      readiness.delete(`${vm}/${app}`);
      if (isReadyReportedByAgent(config)) {
        await (ready ?? readyFrom(vmOf(vm), app)).wait(host.config.healthTimeoutMs, what);
        return;
      }
      await waitForHealthy(vmOf(vm).forwards.get(app) ?? 0, {
        timeoutMs: host.config.healthTimeoutMs,
        what,
        ...(config.health?.send === undefined ? {} : { send: config.health.send }),
        ...(config.health?.expect === undefined ? {} : { expect: config.health.expect }),
      });
    },
    sizeOf: (app) => findArea(host.table, appAreaName(app))?.sizeBytes ?? appOf(app).sizeBytes,
    serveFrom: (app, vm) => {
      host.endpoints.get(app)?.route({ host: '127.0.0.1', port: vmOf(vm).forwards.get(app) ?? 0, vm });
      noteStarted(host.supervision, app);
    },
    hold: (app) => host.endpoints.get(app)?.hold(),
    commit: (kind, from, change) => host.commitFailover(kind, from, change),
    keep: (record) => host.keepRecord(record),
    block: (reason) => host.block(reason),
  };
}

function journalOf(persistence: PairPersistence | undefined, log: Logger): OperationJournal | undefined {
  if (persistence === undefined) return undefined;
  return {
    ...undoJournal(persistence, log),
    open: (fields) => persistence.open(fields),
    adopt: (op) => persistence.operations.set(op.id, op),
    intent: (opId, name) => persistence.intent(opId, name),
    result: (opId, name, outcome, detail) => persistence.result(opId, name, outcome, detail),
    flush: () => persistence.flush(),
    close: (opId, result) => persistence.closeOperation(opId, result),
  };
}

/** Listens for `app`'s app.ready from `vm`'s agent from now on; `wait` resolves at the first one. */
function readyFrom(vm: PairVm, app: string): { wait(timeoutMs: number, what: string): Promise<void> } {
  let isReady = false;
  let wake: (() => void) | undefined;
  const listener = (ready: { name: string }) => {
    if (ready.name !== app) return;
    isReady = true;
    wake?.();
  };
  vm.machine.agent.on('appReady', listener);
  return {
    wait: (timeoutMs, what) =>
      new Promise<void>((resolve, reject) => {
        const done = (error?: Error) => {
          clearTimeout(timer);
          vm.machine.agent.off('appReady', listener);
          if (error === undefined) resolve();
          else reject(error);
        };
        const timer = setTimeout(
          () => done(new WaitTimeoutError({ waitedFor: `${what} to report app.ready`, timeoutMs })),
          timeoutMs,
        );
        wake = () => done();
        if (isReady) done();
      }),
  };
}
