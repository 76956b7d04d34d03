// QMP client: greeting, capability negotiation, commands with ids and deadlines, and an event backlog.
import { EventEmitter } from 'node:events';
import { QmpCommandError, QmpDisconnectedError, QmpProtocolError, WaitTimeoutError } from '../errors.js';
import type { Logger } from '../log.js';
import type { JsonLines, JsonObject } from './framing.js';

export interface QmpEvent {
  event: string;
  data: JsonObject;
  /** Host monotonic time (performance.now()) when the event arrived. */
  receivedAtMs: number;
  /** QEMU's own wall-clock timestamp, in microseconds since the epoch. */
  qemuTimestampUs: number;
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export type QmpState = 'greeting' | 'negotiating' | 'ready' | 'closed';

export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
const EVENT_BACKLOG_LIMIT = 256;

export interface QmpClientEvents {
  event: [QmpEvent];
  close: [];
}

/** Talks QMP over a JSON-lines channel. Create with `connectQmp`, which waits for the greeting. */
export class QmpClient extends EventEmitter<QmpClientEvents> {
  readonly vm: string;
  private readonly lines: JsonLines;
  private readonly log: Logger;
  private readonly pending = new Map<number, Pending>();
  private readonly backlog: QmpEvent[] = [];
  private nextId = 1;
  private stateValue: QmpState = 'greeting';

  constructor(lines: JsonLines, options: { vm: string; log: Logger }) {
    super();
    this.lines = lines;
    this.vm = options.vm;
    this.log = options.log;
    lines.on('message', (message) => this.onMessage(message));
    lines.on('invalid', (info) => this.log.warn({ vm: this.vm, ...info }, 'ignored invalid QMP line'));
    lines.on('close', (error) => this.onClose(error));
  }

  get state(): QmpState {
    return this.stateValue;
  }

  /** Waits for the greeting and negotiates capabilities. Throws on timeout or disconnect. */
  async negotiate(timeoutMs: number = DEFAULT_COMMAND_TIMEOUT_MS): Promise<JsonObject> {
    const greeting = await new Promise<JsonObject>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new WaitTimeoutError({ waitedFor: `the QMP greeting from ${this.vm}`, timeoutMs }));
      }, timeoutMs);
      const onMessage = (message: JsonObject) => {
        cleanup();
        if (typeof message.QMP !== 'object' || message.QMP === null) {
          reject(new QmpProtocolError(this.vm, `expected a greeting, got ${JSON.stringify(message)}`));
        } else {
          resolve(message.QMP as JsonObject);
        }
      };
      const onClose = () => {
        cleanup();
        reject(new QmpDisconnectedError({ vm: this.vm, command: 'greeting' }));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.lines.off('message', onMessage);
        this.lines.off('close', onClose);
      };
      if (this.lines.closed) return onClose();
      this.lines.prependOnceListener('message', onMessage);
      this.lines.once('close', onClose);
    });
    this.stateValue = 'negotiating';
    await this.execute('qmp_capabilities', undefined, timeoutMs);
    this.stateValue = 'ready';
    return greeting;
  }

  /** Runs one command; resolves with its `return` value. Every command has a deadline. */
  execute(
    command: string,
    args?: JsonObject,
    timeoutMs: number = DEFAULT_COMMAND_TIMEOUT_MS,
  ): Promise<unknown> {
    if (this.stateValue === 'closed' || this.lines.closed) {
      return Promise.reject(new QmpDisconnectedError({ vm: this.vm, command }));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new WaitTimeoutError({ waitedFor: `the reply to QMP ${command} from ${this.vm}`, timeoutMs }));
      }, timeoutMs);
      this.pending.set(id, { command, resolve, reject, timer });
      const message: JsonObject = { execute: command, id };
      if (args !== undefined) message.arguments = args;
      this.log.trace({ vm: this.vm, qmp: message }, 'qmp send');
      this.lines.send(message);
    });
  }

  /** Events received so far and not yet consumed by `waitForEvent` (oldest first). */
  get events(): readonly QmpEvent[] {
    return this.backlog;
  }

  /**
   * Resolves with the first event named `name` whose data contains `match` (a sub-object),
   * taking it from the backlog if it already arrived. Throws WaitTimeoutError past the deadline.
   */
  waitForEvent(name: string, match: JsonObject | undefined, timeoutMs: number): Promise<QmpEvent> {
    const isWanted = (event: QmpEvent) => event.event === name && matchesSubset(event.data, match ?? {});
    const index = this.backlog.findIndex(isWanted);
    if (index !== -1) {
      const [found] = this.backlog.splice(index, 1);
      if (found !== undefined) return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('event', onEvent);
        this.off('close', onClose);
        const last = this.backlog.at(-1);
        reject(
          new WaitTimeoutError({
            waitedFor: `QMP event ${name} from ${this.vm}`,
            timeoutMs,
            ...(last === undefined ? {} : { lastSeen: `event ${last.event}` }),
          }),
        );
      }, timeoutMs);
      const onEvent = (event: QmpEvent) => {
        if (!isWanted(event)) return;
        clearTimeout(timer);
        this.off('event', onEvent);
        this.off('close', onClose);
        const at = this.backlog.indexOf(event);
        if (at !== -1) this.backlog.splice(at, 1);
        resolve(event);
      };
      const onClose = () => {
        clearTimeout(timer);
        this.off('event', onEvent);
        reject(new QmpDisconnectedError({ vm: this.vm, command: `wait for ${name}` }));
      };
      this.on('event', onEvent);
      this.once('close', onClose);
    });
  }

  /** Closes the connection; pending commands are rejected with QmpDisconnectedError. */
  close(): void {
    this.lines.close();
  }

  private onMessage(message: JsonObject): void {
    this.log.trace({ vm: this.vm, qmp: message }, 'qmp recv');
    if (typeof message.event === 'string') {
      this.onEvent(message);
      return;
    }
    if (!('return' in message) && !('error' in message)) return;
    const id = message.id;
    const pending = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (pending === undefined) {
      if (id === undefined && 'error' in message) {
        // An id-less error means QEMU could not parse what we sent: the stream is out of step.
        this.log.error({ vm: this.vm, qmp: message }, 'QMP error without id; closing the connection');
        this.close();
        return;
      }
      this.log.warn({ vm: this.vm, id }, 'dropped a QMP reply with an unknown id');
      return;
    }
    this.pending.delete(id as number);
    clearTimeout(pending.timer);
    if ('error' in message) {
      const error = (message.error ?? {}) as { class?: unknown; desc?: unknown };
      pending.reject(
        new QmpCommandError({
          command: pending.command,
          errorClass: String(error.class ?? 'GenericError'),
          desc: String(error.desc ?? 'no description'),
          vm: this.vm,
        }),
      );
    } else {
      pending.resolve(message.return);
    }
  }

  private onEvent(message: JsonObject): void {
    const timestamp = (message.timestamp ?? {}) as { seconds?: unknown; microseconds?: unknown };
    const event: QmpEvent = {
      event: message.event as string,
      data: (typeof message.data === 'object' && message.data !== null ? message.data : {}) as JsonObject,
      receivedAtMs: performance.now(),
      qemuTimestampUs: Number(timestamp.seconds ?? 0) * 1e6 + Number(timestamp.microseconds ?? 0),
    };
    this.backlog.push(event);
    if (this.backlog.length > EVENT_BACKLOG_LIMIT) this.backlog.shift();
    this.emit('event', event);
  }

  private onClose(error: Error | undefined): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new QmpDisconnectedError({ vm: this.vm, command: pending.command }, { cause: error }));
      this.pending.delete(id);
    }
    this.emit('close');
  }
}

/** True when every key of `subset` is present in `value` with an equal (recursively matching) value. */
export function matchesSubset(value: unknown, subset: unknown): boolean {
  if (typeof subset !== 'object' || subset === null) return Object.is(value, subset);
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(subset).every(([key, expected]) =>
    matchesSubset((value as Record<string, unknown>)[key], expected),
  );
}
