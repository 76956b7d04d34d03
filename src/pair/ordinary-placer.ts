// Ordinary apps that run nowhere (after a whole-VM failover or a restart) started on the active once the pool can grant their memory, else `waiting` with the numbers.
import type { StableEndpoint } from '../endpoint/proxy.js';
import { AgentError } from '../errors.js';
import { planOrdinaryRestarts } from '../lifecycle/ordinary-apps.js';
import type { Logger } from '../log.js';
import { appAreaName, poolBytes, type ResourceTable } from '../table/index.js';
import type { AppConfig } from './config.js';
import type { PairState } from './pair-state.js';
import type { PairVm } from './vm-factory.js';

/** What the placer reads of the pair (read-only). */
export interface PlacerView {
  readonly log: Logger;
  readonly config: { readonly apps: readonly AppConfig[] };
  readonly state: PairState;
  readonly roles: { readonly active: string };
  readonly activeVm: PairVm | undefined;
  readonly table: ResourceTable;
  readonly endpoints: ReadonlyMap<string, StableEndpoint>;
}

/** The two actions the placer asks of the pair. */
export interface PlacerActions {
  startOnActive(app: string): Promise<void>;
  stopOnActive(app: string): Promise<void>;
}

/** Plans and starts the ordinary apps, one run at a time; keeps why each one waits (`status` shows it). */
export class OrdinaryPlacer {
  /** Why an app runs nowhere, by app, when the pair knows. */
  readonly waitingReasons = new Map<string, string>();
  private readonly pair: PlacerView;
  private readonly actions: PlacerActions;
  private isPlacing = false;
  private isPlanStale = false;

  constructor(pair: PlacerView, actions: PlacerActions) {
    this.pair = pair;
    this.actions = actions;
  }

  /** Plans the ordinary apps again once the current step is done (one run at a time). */
  schedule(): void {
    if (this.isPlacing) {
      this.isPlanStale = true;
      return;
    }
    this.isPlacing = true;
    setImmediate(() => {
      void this.place()
        .catch((error: Error) => this.pair.log.error({ err: error.message }, 'placing ordinary apps failed'))
        .finally(() => {
          this.isPlacing = false;
          if (this.isPlanStale) {
            this.isPlanStale = false;
            this.schedule();
          }
        });
    });
  }

  /**
   * Starts on the active each ordinary app that runs nowhere while the pool can grant its size;
   * the others wait with the numbers in `status` (lifecycle/ordinary-apps.ts). Only while the pair
   * is protected or unprotected with its active running (never during a failover or when blocked).
   */
  private async place(): Promise<void> {
    const { pair, actions } = this;
    if (pair.state !== 'protected' && pair.state !== 'unprotected') return;
    if (pair.activeVm?.machine.isRunning !== true) return;
    const table = pair.table;
    const steps = planOrdinaryRestarts(
      pair.config.apps.map((app) => ({
        name: app.name,
        hotStandby: app.hotStandby,
        sizeBytes: app.sizeBytes,
        isPlaced:
          pair.endpoints.get(app.name)?.currentTarget !== undefined ||
          table.areas.some((a) => a.name === appAreaName(app.name)),
      })),
      { poolBytes: poolBytes(table), blockBytes: table.blockBytes },
    );
    for (const step of steps) {
      if (step.action === 'wait') {
        this.waitingReasons.set(step.app, step.reason);
        pair.log.warn({ app: step.app, reason: step.reason }, 'ordinary app waits for the pool');
        continue;
      }
      this.waitingReasons.delete(step.app);
      pair.log.warn({ app: step.app, vm: pair.roles.active }, 'starting an ordinary app on the active');
      try {
        await actions.startOnActive(step.app).catch(async (error: unknown) => {
          // Started by a daemon that died before it recorded the start: the agent still runs it,
          // unknown to this daemon's table and endpoint. Stop that copy and start it again, known.
          if (!(error instanceof AgentError) || error.agentCode !== 'already-running') throw error;
          pair.log.warn({ app: step.app }, 'an ordinary app runs unrecorded on the active: restarting it');
          await actions.stopOnActive(step.app);
          await actions.startOnActive(step.app);
        });
      } catch (error) {
        this.waitingReasons.set(
          step.app,
          `starting it on ${pair.roles.active} failed: ${(error as Error).message}`,
        );
      }
    }
  }
}
