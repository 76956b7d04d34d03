// The operation under way, one at a time: a whole-VM failover (then re-protection), a single-app move or a planned switchover.
import { ConflictError } from '../errors.js';
import type { AppMoveTrigger, FailoverTrigger } from '../failover/context.js';
import type { FailoverRecord } from '../state/history.js';
import { appAreaName, findArea } from '../table/index.js';
import { moveApp, planMove } from './app-move.js';
import type { HeldFault, MaintenanceHold } from './maintenance.js';
import type { PairState } from './pair-state.js';
import {
  checkSwitchover,
  moveOrdinaryApps,
  type OrdinaryHost,
  runSwitchover,
  type SwitchoverHost,
} from './switchover.js';
import { failOverWholeVm } from './whole-vm-failover.js';

/** The pair as the executors see it, and the pair's own ways to change what they cannot. */
export interface OperationsHost {
  readonly pair: SwitchoverHost &
    OrdinaryHost & { readonly maintenance: Pick<MaintenanceHold, 'isOn' | 'take'> };
  setState(next: PairState): void;
  /** Fences the failed VM (its QEMU stopped) and boots a fresh standby in its place. */
  reprotect(failedVm: string): Promise<void>;
  /** After an operation ended: a blocked pair lets its exited QEMUs go, queued faults are looked at. */
  afterFailover(): Promise<void>;
  onFault(trigger: FailoverTrigger): Promise<FailoverRecord | undefined>;
  startAppOnActive(app: string): Promise<void>;
  releaseHeld(held: readonly HeldFault[]): Promise<void>;
  /** A memory grant to `app` is under way (its slot being plugged): a move or a switchover of it waits. */
  isGranting(app: string): boolean;
  /** The operation under way has ended, whatever its outcome. */
  onEnded(): void;
}

/** Starts operations and knows the one under way (a second signal joins it instead of starting another). */
export class Operations {
  private readonly host: OperationsHost;
  private running: Promise<FailoverRecord> | undefined;
  private runningId: string | undefined;
  private isSwitching = false;
  /** The apps the operation under way moves (a grant to one of them is refused until it is done). */
  private moving = new Set<string>();

  constructor(host: OperationsHost) {
    this.host = host;
  }

  /** The failover under way, if any. */
  get inFlight(): Promise<FailoverRecord> | undefined {
    return this.running;
  }

  /** The id of the failover under way (set before its first phase), for idempotent requests. */
  get inFlightId(): string | undefined {
    return this.runningId;
  }

  /** A planned switchover runs: a fault meanwhile is held and acted on when it ends. */
  get isSwitchingOver(): boolean {
    return this.isSwitching;
  }

  private readonly onStarted = (id: string): void => {
    this.runningId = id;
  };

  /** Whether the operation under way moves `app` (its area may change owner at the commit). */
  isMoving(app: string): boolean {
    return this.moving.has(app);
  }

  private ended(): void {
    this.running = undefined;
    this.runningId = undefined;
    this.moving = new Set();
    this.host.onEnded();
  }

  /** Every app whose area `vm` holds now: the apps a whole-VM failover of `vm` moves or gives back. */
  private appsOn(vm: string): string[] {
    const { pair } = this.host;
    return pair.config.apps
      .filter((app) => findArea(pair.table, appAreaName(app.name))?.user === vm)
      .map((app) => app.name);
  }

  /** A whole-VM failover of the trigger's VM, then re-protection in the background of the result (timed as `reprotect`). */
  failOver(trigger: FailoverTrigger): Promise<FailoverRecord> {
    this.host.setState('failing-over');
    this.moving = new Set(this.appsOn(trigger.vm));
    this.running = this.failOverVm(trigger).finally(async () => {
      this.ended();
      await this.host.afterFailover();
    });
    return this.running;
  }

  private async failOverVm(trigger: FailoverTrigger): Promise<FailoverRecord> {
    const { pair } = this.host;
    const failed = pair.vms.get(trigger.vm);
    const { record, outcome } = await failOverWholeVm(pair, trigger, this.onStarted);
    if (outcome !== 'succeeded') return record;
    this.host.setState('unprotected');
    const startedAtMs = performance.now();
    if (failed !== undefined) await failed.machine.shutdown({ timeoutMs: 500 });
    await this.host.reprotect(trigger.vm);
    record.phases.push({ name: 'reprotect', ms: Math.round(performance.now() - startedAtMs) });
    pair.persistence?.changed();
    return record;
  }

  /**
   * Moves a hot-standby app to the other VM (the standby, or back to the active). Refusals are
   * thrown before anything changes; otherwise resolves with the record, kept in `history`. A move
   * that had to give way fails the VM it left over, and the record points at that failover.
   */
  moveApp(appName: string, trigger: AppMoveTrigger): Promise<FailoverRecord> {
    const { pair } = this.host;
    let moving: ReturnType<typeof planMove>;
    try {
      moving = planMove(pair, appName);
    } catch (refusal) {
      return Promise.reject(refusal);
    }
    if (this.host.isGranting(appName))
      return Promise.reject(
        new ConflictError(
          `Cannot move ${appName}: a memory grant to it is under way; ask again once it is done`,
        ),
      );
    this.host.setState('failing-over');
    this.moving = new Set([appName]);
    const run = (async () => {
      const outcome = await moveApp(pair, moving, trigger, this.onStarted);
      if (outcome.next === 'settled') this.host.setState('protected');
      if (outcome.next === 'escalate' && outcome.fault !== undefined) {
        pair.log.error({ signal: outcome.fault.signal }, 'app move escalated to a whole-VM failover');
        this.moving = new Set([...this.moving, ...this.appsOn(outcome.fault.vm)]);
        const whole = await this.failOverVm(outcome.fault);
        outcome.record.escalatedTo = whole.id;
        pair.persistence?.changed();
      }
      return outcome;
    })();
    this.running = run.then(
      (outcome) => outcome.record,
      (error: unknown) => {
        // The executor turns every failure of a step into a record; this is a defect, so stop acting.
        pair.block(`moving ${appName} failed: ${(error as Error).message}`);
        throw error;
      },
    );
    const record = this.running;
    void run
      .then((outcome) => {
        this.ended();
        if (outcome.next === 'settled' && outcome.fault !== undefined) void this.host.onFault(outcome.fault);
      })
      .catch(() => this.ended());
    return record;
  }

  /**
   * Planned switchover (switchover.ts): refusals thrown before anything changes; otherwise
   * resolves with the record, kept in `history`. Faults seen meanwhile are held and handed over
   * when it ends (unless maintenance is on).
   */
  switchOver(): Promise<FailoverRecord> {
    const { pair } = this.host;
    let plan: ReturnType<typeof checkSwitchover>;
    try {
      plan = checkSwitchover(pair);
    } catch (refusal) {
      return Promise.reject(refusal);
    }
    const granting = plan.apps.find((app) => this.host.isGranting(app));
    if (granting !== undefined)
      return Promise.reject(
        new ConflictError(
          `Cannot switch over: a memory grant to ${granting} is under way; ask again once it is done`,
        ),
      );
    this.host.setState('failing-over');
    this.isSwitching = true;
    this.moving = new Set(plan.apps);
    const run = runSwitchover(pair, plan, this.onStarted).then(
      async ({ record, outcome }) => {
        if (outcome === 'succeeded') {
          const phases = await moveOrdinaryApps(pair, plan.from, (app) => this.host.startAppOnActive(app));
          record.phases.push(...phases);
          pair.persistence?.changed();
        }
        if (outcome === 'succeeded' || outcome === 'rolled-back') this.host.setState('protected');
        return record;
      },
      (error: unknown) => {
        pair.block(`the switchover failed: ${(error as Error).message}`);
        throw error;
      },
    );
    this.running = run.finally(() => {
      this.ended();
      this.isSwitching = false;
      if (!pair.maintenance.isOn) void this.host.releaseHeld(pair.maintenance.take());
    });
    return this.running;
  }
}
