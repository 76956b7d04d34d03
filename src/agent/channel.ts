// Host side of the agent channel: validates every guest line, tracks hello/heartbeats, sends requests.
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { AgentError, WaitTimeoutError } from '../errors.js';
import type { Logger } from '../log.js';
import { JsonLines, type JsonObject } from '../qmp/framing.js';
import {
  AGENT_MAX_LINE_BYTES,
  type AppExited,
  type AppReady,
  type AppStartRequest,
  appStartResultSchema,
  appStopResultSchema,
  type Heartbeat,
  type Hello,
  type MemRequest,
  type MemStatus,
  memStatusSchema,
  parseGuestMessage,
  syncResultSchema,
} from './protocol.js';
import { TokenBucket } from './rate-limit.js';

export interface AgentChannelEvents {
  hello: [Hello, number];
  appExited: [AppExited, number];
  appReady: [AppReady, number];
  memRequest: [MemRequest, number];
  heartbeat: [Heartbeat, number];
  refused: [string];
  close: [];
}

/** A guest may send this many lines per second on average, in bursts of up to AGENT_RATE_BURST. */
export const AGENT_RATE_PER_SECOND = 100;
export const AGENT_RATE_BURST = 200;

export interface AgentChannelOptions {
  vm: string;
  log: Logger;
  /** The rate limiter's clock; tests freeze it. */
  nowMs?: () => number;
}

interface Pending {
  type: string;
  resolve: (result: Record<string, unknown>) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One VM's agent channel. The VM's identity is `vm`, given by whoever opened the socket: nothing
 * the guest says can change it. Lines over the cap, too deep, off-schema or over the rate are dropped.
 */
export class AgentChannel extends EventEmitter<AgentChannelEvents> {
  readonly vm: string;
  hello: Hello | undefined;
  helloAtMs: number | undefined;
  lastHeartbeat: Heartbeat | undefined;
  lastHeartbeatAtMs: number | undefined;
  refusedCount = 0;
  private readonly lines: JsonLines;
  private readonly log: Logger;
  private readonly bucket: TokenBucket;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(socket: Socket, options: AgentChannelOptions) {
    super();
    this.vm = options.vm;
    this.log = options.log;
    this.bucket = new TokenBucket({
      ratePerSecond: AGENT_RATE_PER_SECOND,
      burst: AGENT_RATE_BURST,
      ...(options.nowMs === undefined ? {} : { nowMs: options.nowMs }),
    });
    this.lines = new JsonLines(socket, { maxLineBytes: AGENT_MAX_LINE_BYTES });
    this.lines.on('message', (message) => this.onMessage(message));
    this.lines.on('invalid', (info) => this.refuse(`${info.reason}: ${JSON.stringify(info.excerpt)}`));
    this.lines.on('close', () => this.onClose());
  }

  /** Resolves with the guest's hello (now, if it already came). */
  waitForHello(timeoutMs: number, hint?: string): Promise<Hello> {
    if (this.hello !== undefined) return Promise.resolve(this.hello);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('hello', onHello);
        reject(
          new WaitTimeoutError({
            waitedFor: `hello from the guest agent on ${this.vm}`,
            timeoutMs,
            ...(this.refusedCount > 0 ? { lastSeen: `${this.refusedCount} refused lines` } : {}),
            ...(hint === undefined ? {} : { hint }),
          }),
        );
      }, timeoutMs).unref(); // A wait alone never keeps a stopping daemon alive (its sockets do while it runs).
      const onHello = (hello: Hello) => {
        clearTimeout(timer);
        resolve(hello);
      };
      this.once('hello', onHello);
    });
  }

  /** Resolves with the next heartbeat whose seq is at least `minSeq`. */
  waitForHeartbeat(minSeq: number, timeoutMs: number): Promise<Heartbeat> {
    if (this.lastHeartbeat !== undefined && this.lastHeartbeat.seq >= minSeq)
      return Promise.resolve(this.lastHeartbeat);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('heartbeat', onBeat);
        const last = this.lastHeartbeat?.seq;
        reject(
          new WaitTimeoutError({
            waitedFor: `heartbeat ${minSeq} from the guest agent on ${this.vm}`,
            timeoutMs,
            ...(last === undefined ? {} : { lastSeen: `heartbeat ${last}` }),
          }),
        );
      }, timeoutMs).unref();
      const onBeat = (beat: Heartbeat) => {
        if (beat.seq < minSeq) return;
        clearTimeout(timer);
        this.off('heartbeat', onBeat);
        resolve(beat);
      };
      this.on('heartbeat', onBeat);
    });
  }

  /** Sends `sync` with a fresh nonce and checks the echo: proves the agent is alive now. */
  async sync(nonce: string, timeoutMs: number): Promise<void> {
    const result = syncResultSchema.parse(await this.request('sync', { nonce }, timeoutMs));
    if (result.nonce !== nonce) {
      throw new AgentError({
        vm: this.vm,
        agentCode: 'nonce-mismatch',
        message: `sent ${nonce}, got ${result.nonce}`,
      });
    }
  }

  /** Asks the agent for the guest's memory view. */
  async memStatus(timeoutMs: number): Promise<MemStatus> {
    return memStatusSchema.parse(await this.request('mem.status', {}, timeoutMs));
  }

  /** Starts an app in the guest (mounting its data disk first); resolves with its guest pid. */
  async appStart(request: AppStartRequest, timeoutMs: number): Promise<{ name: string; pid: number }> {
    // The request's own shape is the wire shape (docs/agent-protocol.md); copied so later changes cannot reach it.
    const fields = JSON.parse(JSON.stringify(request)) as JsonObject;
    return appStartResultSchema.parse(await this.request('app.start', fields, timeoutMs));
  }

  /** Stops an app (SIGTERM, then SIGKILL) and unmounts its disk; resolves with how it ended. */
  async appStop(
    name: string,
    timeoutMs: number,
  ): Promise<{ name: string; code: number | null; signal: number | null }> {
    return appStopResultSchema.parse(
      await this.request('app.stop', { name, timeoutMs: Math.max(100, timeoutMs - 1000) }, timeoutMs),
    );
  }

  /** Answers the guest's `mem.request` for `app`: granted (memory is being plugged) or refused with the reason. */
  async answerMemRequest(
    app: string,
    answer: { granted: boolean; reason?: string },
    timeoutMs: number,
  ): Promise<void> {
    await this.request(
      'mem.answer',
      { app, granted: answer.granted, ...(answer.reason === undefined ? {} : { reason: answer.reason }) },
      timeoutMs,
    );
  }

  /** Test-only: asks the guest kernel to panic (honoured only with baton.faults=1). */
  async injectPanic(timeoutMs: number): Promise<void> {
    await this.request('fault.panic', {}, timeoutMs);
  }

  /** Sends a raw request (tests use this to send invalid ones) and resolves with its result. */
  request(type: string, fields: JsonObject, timeoutMs: number): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new WaitTimeoutError({ waitedFor: `the agent's reply to ${type} on ${this.vm}`, timeoutMs }));
      }, timeoutMs);
      this.pending.set(id, { type, resolve, reject, timer });
      if (!this.lines.send({ ...fields, type, id })) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(
          new AgentError({ vm: this.vm, agentCode: 'disconnected', message: 'the agent channel is closed' }),
        );
      }
    });
  }

  close(): void {
    this.lines.close();
  }

  private onMessage(raw: JsonObject): void {
    if (!this.bucket.take()) {
      this.refuse('over the rate limit');
      return;
    }
    const parsed = parseGuestMessage(raw);
    if (!parsed.ok) {
      this.refuse(parsed.reason);
      return;
    }
    const message = parsed.message;
    const now = performance.now();
    switch (message.type) {
      case 'hello':
        this.hello = message;
        this.helloAtMs = now;
        this.emit('hello', message, now);
        return;
      case 'heartbeat':
        this.lastHeartbeat = message;
        this.lastHeartbeatAtMs = now;
        this.emit('heartbeat', message, now);
        return;
      case 'app.exited':
        this.emit('appExited', message, now);
        return;
      case 'app.ready':
        this.emit('appReady', message, now);
        return;
      case 'mem.request':
        this.emit('memRequest', message, now);
        return;
      case 'error':
        this.log.warn(
          { vm: this.vm, code: message.code, detail: message.message },
          'guest agent reported an error',
        );
        return;
      case 'reply': {
        const pending = this.pending.get(message.id);
        if (pending === undefined) {
          this.refuse(`reply to unknown id ${message.id}`);
          return;
        }
        this.pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.ok) pending.resolve(message.result);
        else
          pending.reject(
            new AgentError({ vm: this.vm, agentCode: message.error.code, message: message.error.message }),
          );
        return;
      }
    }
  }

  private refuse(reason: string): void {
    this.refusedCount += 1;
    this.log.warn({ vm: this.vm, reason }, 'refused a line from the guest agent');
    this.emit('refused', reason);
  }

  private onClose(): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(
        new AgentError({
          vm: this.vm,
          agentCode: 'disconnected',
          message: `channel closed during ${pending.type}`,
        }),
      );
      this.pending.delete(id);
    }
    this.emit('close');
  }
}

/** Connects to the agent chardev socket that QEMU serves in the VM's run directory. */
export function connectAgent(socketPath: string, options: AgentChannelOptions): Promise<AgentChannel> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(new AgentChannel(socket, options));
    });
    socket.once('error', reject);
  });
}
