// A fake guest agent on a unix socket: the test writes raw lines as the guest and reads what the host sent.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HELLO = {
  type: 'hello',
  agentVersion: '0.1.0',
  bootId: '0f2c8a3e-1b2d-4c5e-8f90-123456789abc',
  memTotalBytes: 61 * 1024 * 1024,
  memoryBlockSizeBytes: 128 * 1024 * 1024,
  numaNodes: [
    { id: 0, memTotalBytes: 61 * 1024 * 1024 },
    { id: 1, memTotalBytes: 0 },
  ],
  heartbeatMs: 500,
  uptimeMs: 3100,
};

export class FakeAgentPeer {
  readonly socketPath: string;
  readonly received: Array<Record<string, unknown>> = [];
  private readonly dir: string;
  private readonly server: Server;
  private socket: Socket | undefined;
  private buffered = '';
  private onRequest: ((request: Record<string, unknown>) => void) | undefined;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'fake-agent-'));
    this.socketPath = join(this.dir, 'agent.sock');
    this.server = createServer((socket) => {
      this.socket = socket;
      socket.setEncoding('utf8');
      socket.on('error', () => undefined);
      socket.on('data', (chunk: string) => {
        this.buffered += chunk;
        for (
          let newline = this.buffered.indexOf('\n');
          newline !== -1;
          newline = this.buffered.indexOf('\n')
        ) {
          const request = JSON.parse(this.buffered.slice(0, newline)) as Record<string, unknown>;
          this.buffered = this.buffered.slice(newline + 1);
          this.received.push(request);
          this.onRequest?.(request);
        }
      });
    });
  }

  listen(): Promise<this> {
    return new Promise((resolve) => this.server.listen(this.socketPath, () => resolve(this)));
  }

  /** Answers each request with whatever `answer` returns (raw object, or undefined for silence). */
  answerWith(answer: (request: Record<string, unknown>) => unknown): void {
    this.onRequest = (request) => {
      const reply = answer(request);
      if (reply !== undefined) this.send(reply);
    };
  }

  send(message: unknown): void {
    this.sendRaw(JSON.stringify(message));
  }

  sendRaw(line: string): void {
    this.socket?.write(`${line}\n`);
  }

  disconnect(): void {
    this.socket?.destroy();
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise((resolve) => this.server.close(resolve));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
