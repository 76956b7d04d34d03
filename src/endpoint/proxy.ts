// The stable endpoint: a host TCP port per app that forwards to whichever VM owns the app now.
import { EventEmitter } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log.js';

export interface EndpointTarget {
  host: string;
  port: number;
  /** Which VM this is, for logs and status. */
  vm: string;
}

export interface EndpointEvents {
  connection: [{ target: string; waitedMs: number }];
  refused: [{ reason: string }];
}

/**
 * Listens on `listenPort` (loopback) and pipes each client to the current target. While the
 * endpoint is held (a failover is under way) new clients wait up to `holdTimeoutMs` for a
 * target instead of failing; past that they are closed.
 */
export class StableEndpoint extends EventEmitter<EndpointEvents> {
  readonly app: string;
  private readonly server: Server;
  private readonly log: Logger;
  private readonly holdTimeoutMs: number;
  private target: EndpointTarget | undefined;
  private waiters: Array<(target: EndpointTarget | undefined) => void> = [];
  private readonly sockets = new Set<Socket>();

  constructor(options: { app: string; log: Logger; holdTimeoutMs?: number }) {
    super();
    this.app = options.app;
    this.log = options.log.child({ endpoint: options.app });
    this.holdTimeoutMs = options.holdTimeoutMs ?? 30_000;
    this.server = createServer((client) => void this.accept(client));
  }

  /** Starts listening on 127.0.0.1:`port` (0 picks a free port); resolves with the port. */
  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  /** The port it listens on (after `listen`). */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  get currentTarget(): EndpointTarget | undefined {
    return this.target;
  }

  /** Points new connections at `target` and releases every waiting client to it. */
  route(target: EndpointTarget): void {
    this.target = target;
    this.log.info({ vm: target.vm, port: target.port }, 'endpoint routed');
    const waiting = this.waiters;
    this.waiters = [];
    for (const release of waiting) release(target);
  }

  /** Holds new connections (they wait) and cuts the existing ones, which went to the old owner. */
  hold(): void {
    this.target = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.hold();
    for (const release of this.waiters) release(undefined);
    this.waiters = [];
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async accept(client: Socket): Promise<void> {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => undefined); // A client's reset is its own business.
    const arrivedAtMs = performance.now();
    const target = this.target ?? (await this.waitForTarget());
    if (target === undefined || client.destroyed) {
      this.emit('refused', { reason: 'no owner within the hold timeout' });
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    this.sockets.add(upstream);
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    this.emit('connection', { target: target.vm, waitedMs: performance.now() - arrivedAtMs });
  }

  private waitForTarget(): Promise<EndpointTarget | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== release);
        resolve(undefined);
      }, this.holdTimeoutMs);
      const release = (target: EndpointTarget | undefined) => {
        clearTimeout(timer);
        resolve(target);
      };
      this.waiters.push(release);
    });
  }
}
