// The event bus behind `baton events`: faults, failover phases and failovers, as they are journaled.
import type { JournalEvent } from '../state/journal-read.js';
import type { HistoryView } from './views.js';

/** A failover's record as `history` shows it. */
export type FailoverView = HistoryView[number];

/** One event of the stream (field names are a documented contract, see docs/api.md). */
export type BatonEvent =
  | { type: 'following'; seq: 0; at: string }
  | {
      type: 'fault';
      seq: number;
      at: string;
      vm: string;
      /** VM faults: GUEST_PANICKED, qemu-exit, qmp-disconnect, hang, request. App exits: the severity. */
      signal: string;
      app: string | null;
      /** What baton does about it: failover, replace-standby, restart-in-place, move-app, whole-vm, none. */
      action: string;
    }
  | {
      type: 'failover';
      seq: number;
      at: string;
      id: string;
      state: 'started';
      kind: string;
      fromVm: string;
      toVm: string;
    }
  | {
      type: 'phase';
      seq: number;
      at: string;
      id: string;
      phase: string;
      app: string | null;
      state: 'started' | 'ok' | 'failed';
      detail: string | null;
    }
  | {
      type: 'failover';
      seq: number;
      at: string;
      id: string;
      state: 'finished';
      result: string;
      record: FailoverView | null;
    };

/** How many recent events `baton events` (without --follow) can show. */
export const RECENT_EVENTS = 200;

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * Turns a journal line into a stream event; undefined for lines that are not one (API calls).
 * `findRecord` looks a finished failover's record up by id.
 */
export function toBatonEvent(
  event: JournalEvent,
  findRecord: (id: string) => FailoverView | undefined,
): BatonEvent | undefined {
  const base = { seq: event.seq, at: event.at };
  const id = text(event.opId);
  switch (event.type) {
    case 'fault':
      return {
        type: 'fault',
        ...base,
        vm: text(event.vm),
        signal: text(event.signal),
        app: typeof event.app === 'string' ? event.app : null,
        action: text(event.action),
      };
    case 'operation':
      return {
        type: 'failover',
        ...base,
        id,
        state: 'started',
        kind: text(event.kind),
        fromVm: text(event.fromVm),
        toVm: text(event.toVm),
      };
    case 'intent':
    case 'result': {
      // `name` is the phase as the failover ran it (`plug:kv` when several apps move, `reprotect`).
      const [phase, nameApp] = text(event.name ?? event.phase).split(':');
      const outcome = text(event.outcome);
      return {
        type: 'phase',
        ...base,
        id,
        phase: phase ?? '',
        app: typeof event.app === 'string' ? event.app : (nameApp ?? null),
        state: event.type === 'intent' ? 'started' : outcome === 'ok' ? 'ok' : 'failed',
        detail: typeof event.detail === 'string' ? event.detail : null,
      };
    }
    case 'closed':
      return {
        type: 'failover',
        ...base,
        id,
        state: 'finished',
        result: text(event.result),
        record: findRecord(id) ?? null,
      };
    default:
      return undefined;
  }
}

/** Fans events out to subscribers, keeps the most recent ones and each running failover's phase. */
export class EventBus {
  private readonly listeners = new Set<(event: BatonEvent) => void>();
  private readonly recentEvents: BatonEvent[] = [];
  private readonly phases = new Map<string, string>();

  publish(event: BatonEvent): void {
    this.recentEvents.push(event);
    if (this.recentEvents.length > RECENT_EVENTS) this.recentEvents.shift();
    if (event.type === 'phase' && event.state === 'started')
      this.phases.set(event.id, event.app === null ? event.phase : `${event.phase}:${event.app}`);
    if (event.type === 'failover' && event.state === 'finished') this.phases.delete(event.id);
    for (const listener of this.listeners) listener(event);
  }

  /** The phase a running failover began last (`plug`, `plug:kv`), or undefined. */
  phaseOf(id: string): string | undefined {
    return this.phases.get(id);
  }

  /** Calls `listener` with every event published from now on; returns the function that stops it. */
  subscribe(listener: (event: BatonEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  recent(): BatonEvent[] {
    return [...this.recentEvents];
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }
}

/** Publishes on `bus` every journal line that is a stream event; returns the function that stops it. */
export function feedFromJournal(
  journal: { subscribe(listener: (event: JournalEvent) => void): () => void },
  bus: EventBus,
  findRecord: (id: string) => FailoverView | undefined,
): () => void {
  return journal.subscribe((journalEvent) => {
    const event = toBatonEvent(journalEvent, findRecord);
    if (event !== undefined) bus.publish(event);
  });
}
