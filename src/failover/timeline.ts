// The record of one failover: id, trigger, and each phase's duration, as `baton history` shows it.
import { randomUUID } from 'node:crypto';

import type { FailoverKind, FailoverRecord, FailoverResult } from '../state/history.js';

/** The record types live with the state that saves them; re-exported for the code that times failovers. */
export type { FailoverKind, FailoverRecord, FailoverResult, PhaseRecord } from '../state/history.js';

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
