// The record of one failover: id, trigger, and each phase's duration, as `baton history` shows it.
import { randomUUID } from 'node:crypto';

export type FailoverKind = 'whole-vm' | 'app';
export type FailoverResult = 'running' | 'succeeded' | 'failed' | 'blocked';

export interface PhaseRecord {
  name: string;
  ms: number;
}

export interface FailoverRecord {
  id: string;
  kind: FailoverKind;
  trigger: string;
  app?: string;
  fromVm: string;
  toVm: string;
  startedAt: string;
  totalMs: number;
  result: FailoverResult;
  phases: PhaseRecord[];
  error?: string;
  /** Set when this failover gave way to a bigger one: the id of that (whole-VM) failover's record. */
  escalatedTo?: string;
}

/** Times phases against the monotonic clock; `startedAt` is wall time for people only. */
export class Timeline {
  readonly record: FailoverRecord;
  private readonly startedAtMs: number;
  private phaseStartMs: number;

  constructor(fields: {
    kind: FailoverKind;
    trigger: string;
    fromVm: string;
    toVm: string;
    app?: string;
    detectedAtMs?: number;
  }) {
    const now = performance.now();
    this.startedAtMs = fields.detectedAtMs ?? now;
    this.phaseStartMs = now;
    this.record = {
      id: randomUUID(),
      kind: fields.kind,
      trigger: fields.trigger,
      fromVm: fields.fromVm,
      toVm: fields.toVm,
      ...(fields.app === undefined ? {} : { app: fields.app }),
      startedAt: new Date(Date.now() - (now - this.startedAtMs)).toISOString(),
      totalMs: 0,
      result: 'running',
      phases: [],
    };
    if (fields.detectedAtMs !== undefined)
      this.record.phases.push({ name: 'detect', ms: round(now - fields.detectedAtMs) });
  }

  /** Runs one named phase and records its duration (also when it throws). */
  async phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    this.phaseStartMs = performance.now();
    try {
      return await work();
    } finally {
      this.record.phases.push({ name, ms: round(performance.now() - this.phaseStartMs) });
      // After finish (re-protection), phases are still recorded but do not count in the recovery time.
      if (this.record.result === 'running') this.record.totalMs = round(performance.now() - this.startedAtMs);
    }
  }

  finish(result: Exclude<FailoverResult, 'running'>, error?: Error): FailoverRecord {
    this.record.result = result;
    this.record.totalMs = round(performance.now() - this.startedAtMs);
    if (error !== undefined) this.record.error = error.message;
    return this.record;
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
