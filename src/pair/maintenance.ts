// Maintenance mode: automatic failovers held (faults still detected, recorded and shown), persisted in the state directory, released when switched off.
import { readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { FailoverTrigger } from '../failover/context.js';
import type { Logger } from '../log.js';
import { syncDir, writeNewFileSynced } from '../state/durable.js';

/** A fault seen while failovers were held: a VM signal, or an app whose policy asked for a move or a whole-VM failover. */
export interface HeldFault {
  readonly vm: string;
  /** The VM signal, or `app-exit` for an app fault. */
  readonly signal: FailoverTrigger['signal'] | 'app-exit';
  readonly app?: string;
  /** The policy's action for an app fault. */
  readonly action?: 'move-app' | 'whole-vm';
  readonly reason: string;
  /** Host monotonic ms of the detection (a heartbeat after it means the VM recovered). */
  readonly detectedAtMs: number;
  /** Wall time, for people. */
  readonly heldAt: string;
}

const fileSchema = z.strictObject({ on: z.boolean(), since: z.string().nullable() });

export const MAINTENANCE_FILE = 'maintenance.json';

/** The maintenance switch and the faults held under it; `on` and `since` survive a daemon restart. */
export class MaintenanceHold {
  isOn = false;
  since: string | undefined;
  readonly held: HeldFault[] = [];
  private readonly path: string | undefined;
  private readonly log: Logger;
  /** Journals each switch and each held fault (the event journal of the state directory). */
  private readonly onEvent: (type: string, fields: Readonly<Record<string, unknown>>) => void;

  constructor(options: {
    stateDir?: string;
    log: Logger;
    onEvent?: (type: string, fields: Readonly<Record<string, unknown>>) => void;
  }) {
    this.path = options.stateDir === undefined ? undefined : join(options.stateDir, MAINTENANCE_FILE);
    this.log = options.log;
    this.onEvent = options.onEvent ?? (() => undefined);
  }

  /** Reads the saved switch; a missing file is `off`, an unreadable one is logged and counts as `off`. */
  async load(): Promise<void> {
    if (this.path === undefined) return;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return; // Never switched on in this state directory.
    }
    const parsed = fileSchema.safeParse(safeJson(text));
    if (!parsed.success) {
      this.log.error({ file: this.path }, 'maintenance file unreadable: maintenance is off');
      return;
    }
    this.isOn = parsed.data.on;
    this.since = parsed.data.since ?? undefined;
    if (this.isOn) this.log.warn({ since: this.since }, 'maintenance is on: automatic failovers are held');
  }

  /** Switches and saves (write, fsync, rename, fsync of the directory) before it returns. */
  async set(isOn: boolean, nowIso = new Date().toISOString()): Promise<void> {
    if (isOn !== this.isOn) this.since = isOn ? nowIso : undefined;
    this.isOn = isOn;
    if (this.path !== undefined) {
      const tmp = `${this.path}.tmp`;
      await rm(tmp, { force: true }); // A temp file left by a crash mid-write was never the switch.
      await writeNewFileSynced(tmp, `${JSON.stringify({ on: this.isOn, since: this.since ?? null })}\n`);
      await rename(tmp, this.path);
      await syncDir(dirname(this.path));
    }
    this.log.warn({ maintenance: isOn, held: this.held.length }, `maintenance ${isOn ? 'on' : 'off'}`);
    this.onEvent('maintenance', { on: isOn, held: this.held.length });
  }

  hold(fault: HeldFault): void {
    // One entry per VM (a panicked VM also loses QMP) and per app: the first is the fault.
    if (this.held.some((h) => h.vm === fault.vm && h.app === fault.app)) return;
    this.held.push(fault);
    this.onEvent('fault-held', { ...fault });
    this.log.warn({ ...fault }, 'fault held: maintenance is on, no automatic failover');
  }

  /** Empties the list and returns what it held, oldest first. */
  take(): HeldFault[] {
    return this.held.splice(0);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
