// A scripted QMP peer on a unix socket: expected command -> canned reply, and timed events.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Step =
  | { kind: 'reply'; command: string; arguments?: unknown; reply: unknown }
  | { kind: 'error'; command: string; errorClass: string; desc: string }
  | { kind: 'hang'; command: string };

export const QEMU_GREETING = {
  QMP: {
    version: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'Debian 1:7.2+dfsg-7' },
    capabilities: ['oob'],
  },
};

/** Serves one client; every command must match the next expectation or the test sees an error. */
export class FakeQmpPeer {
  readonly socketPath: string;
  readonly received: Array<{ execute: string; arguments?: unknown; id?: unknown }> = [];
  readonly mismatches: string[] = [];
  private readonly dir: string;
  private readonly server: Server;
  private readonly steps: Step[] = [];
  private socket: Socket | undefined;
  private buffered = '';

  constructor(options: { greeting?: unknown; sendGreeting?: boolean } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'fake-qmp-'));
    this.socketPath = join(this.dir, 'qmp.sock');
    this.server = createServer((socket) => {
      this.socket = socket;
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => this.onData(chunk));
      socket.on('error', () => undefined);
      if (options.sendGreeting !== false) this.sendRaw(JSON.stringify(options.greeting ?? QEMU_GREETING));
    });
    this.expect('qmp_capabilities', {});
  }

  listen(): Promise<this> {
    return new Promise((resolve) => this.server.listen(this.socketPath, () => resolve(this)));
  }

  /** The next command must be `command`; it gets `reply` as its return value. */
  expect(command: string, reply: unknown, args?: unknown): this {
    this.steps.push({ kind: 'reply', command, reply, ...(args === undefined ? {} : { arguments: args }) });
    return this;
  }

  /** The next command must be `command`; it gets a QMP error. */
  expectError(command: string, errorClass: string, desc: string): this {
    this.steps.push({ kind: 'error', command, errorClass, desc });
    return this;
  }

  /** The next command must be `command`; it never gets a reply. */
  expectHang(command: string): this {
    this.steps.push({ kind: 'hang', command });
    return this;
  }

  /** Sends an event after `afterMs`. */
  emitEvent(event: string, data: unknown, afterMs = 0): void {
    setTimeout(
      () => this.sendRaw(JSON.stringify({ event, data, timestamp: { seconds: 1, microseconds: 2 } })),
      afterMs,
    );
  }

  /** Sends raw bytes (for malformed-input tests). */
  sendRaw(line: string): void {
    this.socket?.write(`${line}\n`);
  }

  /** Drops the connection as QEMU does when it exits. */
  disconnect(): void {
    this.socket?.destroy();
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise((resolve) => this.server.close(resolve));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    for (;;) {
      const newline = this.buffered.indexOf('\n');
      if (newline === -1) return;
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      this.onCommand(JSON.parse(line));
    }
  }

  private onCommand(message: { execute: string; arguments?: unknown; id?: unknown }): void {
    this.received.push(message);
    const step = this.steps.shift();
    if (step === undefined || step.command !== message.execute) {
      this.mismatches.push(`unexpected ${message.execute}; expected ${step?.command ?? 'nothing'}`);
      this.sendRaw(
        JSON.stringify({ error: { class: 'CommandNotFound', desc: 'unexpected' }, id: message.id }),
      );
      return;
    }
    if (
      step.kind === 'reply' &&
      step.arguments !== undefined &&
      JSON.stringify(step.arguments) !== JSON.stringify(message.arguments)
    ) {
      this.mismatches.push(`${message.execute}: arguments ${JSON.stringify(message.arguments)}`);
    }
    if (step.kind === 'reply') this.sendRaw(JSON.stringify({ return: step.reply, id: message.id }));
    if (step.kind === 'error')
      this.sendRaw(JSON.stringify({ error: { class: step.errorClass, desc: step.desc }, id: message.id }));
  }
}
