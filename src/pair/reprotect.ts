// Re-protection: a fresh standby booted in place of one that failed or was failed over, adopted once it is up (the pair is protected again).
import type { HangDetector } from '../detect/hang.js';
import type { Logger } from '../log.js';
import type { Accel } from '../vm/spec.js';
import type { PairConfig } from './config.js';
import { bootPairVm, type PairVm } from './vm-factory.js';

/** What a standby boot needs, and how it hands the booted VM to the pair. */
export interface BootHost {
  readonly config: PairConfig;
  readonly accel: Accel;
  readonly log: Logger;
  /** The pair was stopped meanwhile: a VM booted now is stopped again. */
  isStopped(): boolean;
  /** Takes the booted standby into the pair (and the pair is protected again when it was unprotected). */
  adoptStandby(vm: PairVm): void;
}

/** Boots a fresh standby `name`; a failed boot is logged and leaves the pair unprotected. */
export async function bootFreshStandby(host: BootHost, name: string): Promise<void> {
  host.log.warn({ vm: name }, 'booting a fresh standby');
  try {
    const fresh = await bootPairVm(host.config, name, 'standby', { accel: host.accel, log: host.log });
    if (host.isStopped()) {
      await fresh.machine.shutdown();
      return;
    }
    host.adoptStandby(fresh);
  } catch (error) {
    host.log.error(
      { vm: name, err: (error as Error).message },
      're-protection failed: the pair stays unprotected',
    );
  }
}

/** What re-protection reads of the pair. */
export interface ReprotectView {
  readonly config: PairConfig;
  readonly accel: Accel;
  readonly log: Logger;
  readonly vms: ReadonlyMap<string, PairVm>;
  readonly detectors: ReadonlyMap<string, HangDetector>;
}

/** The pair's own ways to change what re-protection finds. */
export interface ReprotectActions extends Pick<BootHost, 'isStopped' | 'adoptStandby'> {
  /** The pair forgets the VM `name` (stopped, or exited). */
  dropVm(name: string): void;
  /** A background boot is over, whatever its result (queued faults may be acted on now). */
  onBootSettled(): void;
}

/** Fresh standbys: booted after a failover, in place of a failed one, or of one found gone at re-attach. */
export class Reprotection {
  private readonly view: ReprotectView;
  private readonly actions: ReprotectActions;
  /** The background boots under way (two may overlap: each is counted until it settles). */
  private readonly boots = new Set<Promise<void>>();

  constructor(view: ReprotectView, actions: ReprotectActions) {
    this.view = view;
    this.actions = actions;
  }

  /** A fresh standby boots now outside a failover: it is not ready yet. */
  get isBooting(): boolean {
    return this.boots.size > 0;
  }

  /** Boots a fresh standby `name` (the failed VM of that name is gone already). */
  reprotect(name: string): Promise<void> {
    const { config, accel, log } = this.view;
    return bootFreshStandby({ config, accel, log, ...this.actions }, name);
  }

  /** In the background: boots a fresh standby `name`. */
  bootInBackground(name: string): void {
    this.run(this.reprotect(name));
  }

  /** In the background: fences the failed, empty standby `name` (its exit seen) and boots a fresh one in its place. */
  replace(name: string): void {
    this.run(this.replaceNow(name));
  }

  /** Waits for every background boot (stop waits for them before it stops the VMs). */
  async settled(): Promise<void> {
    while (this.boots.size > 0) await Promise.all(this.boots);
  }

  private async replaceNow(name: string): Promise<void> {
    const failed = this.view.vms.get(name);
    this.view.detectors.get(name)?.stop();
    if (failed !== undefined) {
      try {
        await failed.machine.shutdown({ timeoutMs: 500 });
      } catch (error) {
        // Not known to be stopped: it stays in the pair (stop tries again) and no second QEMU of its name boots.
        this.view.log.error(
          { vm: name, err: (error as Error).message },
          're-protection failed: the failed standby could not be stopped; the pair stays unprotected',
        );
        return;
      }
      this.actions.dropVm(name);
    }
    await this.reprotect(name);
  }

  private run(boot: Promise<void>): void {
    const tracked: Promise<void> = boot.finally(() => {
      this.boots.delete(tracked);
      this.actions.onBootSettled();
    });
    this.boots.add(tracked);
  }
}
