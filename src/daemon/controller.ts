// The daemon's side of the control API: reads views of the pair and turns requests into actions.
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import type { Pair } from '../pair/pair.js';
import { appAreaName, findArea } from '../table/index.js';
import type { Controller } from './api.js';
import type { EventBus } from './events.js';
import { waitForFailover } from './failover-wait.js';
import type { Metrics } from './metrics.js';
import { historyView, maintenanceView, statusView, tableView } from './views.js';

export function createController(
  pair: Pair,
  metrics: Metrics,
  onDown: () => Promise<void>,
  bus: EventBus,
): Controller {
  const requireApp = (name: string) => {
    const app = pair.config.apps.find((a) => a.name === name);
    if (app === undefined)
      throw new NotFoundError(
        `Unknown app '${name}': configured apps are ${pair.config.apps.map((a) => a.name).join(', ')}`,
      );
    return app;
  };
  return {
    status: () => statusView(pair, pair.supervision.restarts),
    table: () => tableView(pair),
    history: () => historyView(pair.history),
    async failover(request) {
      if (pair.inFlightId !== undefined) return { id: pair.inFlightId, joined: true };
      if (request.app !== undefined) {
        requireApp(request.app);
        const move = pair.moveApp(request.app, {
          reason: 'operator request',
          detectedAtMs: performance.now(),
        });
        // The move sets its id before its first await; without one it was refused: await rethrows why.
        const id = pair.inFlightId as string | undefined;
        if (id === undefined) {
          await move;
          throw new ConflictError(`The move of ${request.app} ended before it started`);
        }
        void move.catch(() => undefined); // Its outcome goes to history; a defect also blocks the pair.
        return { id, joined: false };
      }
      void pair.onFault(
        { vm: pair.roles.active, signal: 'request', detectedAtMs: performance.now() },
        { isOperatorRequest: true },
      );
      if (pair.inFlightId === undefined)
        throw new ConflictError(`Cannot fail over: the pair is ${pair.state}`);
      return { id: pair.inFlightId, joined: false };
    },
    async switchover() {
      const run = pair.switchOver();
      // The switchover sets its id before its first await; without one it was refused: await rethrows why.
      const id = pair.inFlightId as string | undefined;
      if (id === undefined) {
        await run;
        throw new ConflictError('The switchover ended before it started');
      }
      void run.catch(() => undefined); // Its outcome goes to history; a defect also blocks the pair.
      return { id };
    },
    async maintenance(request) {
      await pair.setMaintenance(request.on);
      return maintenanceView(pair);
    },
    async inject(request) {
      if (!pair.config.isFaultInjectionAllowed)
        throw new ConflictError('Fault injection is disabled in the config (faultInjection: false)');
      const agent = pair.activeVm?.machine.agent;
      if (agent === undefined) throw new ConflictError('No active VM to inject into');
      if (request.fault === 'panic') return void (await agent.injectPanic(3000).catch(() => undefined));
      if (request.fault === 'hang')
        return void (await agent.request('fault.hang', {}, 3000).catch(() => undefined));
      if (request.app === undefined) throw new InvalidInputError(`Fault ${request.fault} needs --app`);
      requireApp(request.app);
      // An app fault goes to the VM that runs the app (the standby, after a move).
      const owner = findArea(pair.table, appAreaName(request.app))?.user;
      const appAgent = (owner === undefined ? undefined : pair.vms.get(owner)?.machine.agent) ?? agent;
      await appAgent.request(`fault.${request.fault}`, { name: request.app }, 3000);
    },
    async requestMemory(request) {
      requireApp(request.app);
      const area = findArea(pair.table, appAreaName(request.app));
      // `baton request` names the size the app should have; the grant adds the difference.
      const granted = await pair.grantMemory({
        app: request.app,
        extraBytes: request.bytes - (area?.sizeBytes ?? 0),
      });
      return { grantedBytes: granted.grantedBytes, epoch: granted.epoch };
    },
    async metrics() {
      return { contentType: metrics.registry.contentType, text: await metrics.registry.metrics() };
    },
    down: onDown,
    recentEvents: () => bus.recent(),
    subscribeEvents: (listener) => bus.subscribe(listener),
    failoverResult: (id, waitMs) =>
      waitForFailover({
        id,
        waitMs,
        bus,
        findRecord: (wanted) =>
          historyView(pair.history.filter((r) => r.id === wanted && r.result !== 'running'))[0],
        runningId: () => pair.inFlightId,
      }),
  };
}
