// A fake QEMU for memory tests: a QMP peer whose virtio-mem devices move toward their requested size over time.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QEMU_GREETING } from './qmp-peer.js';

const MiB = 1024 * 1024;

export interface FakeDeviceOptions {
  /** Device id, e.g. `vmem-slot0`. */
  id: string;
  node?: number;
  maxSizeBytes: number;
  blockSizeBytes?: number;
  /** Size (and requested size) at the start. */
  sizeBytes?: number;
  /** Bytes plugged or unplugged per step; default: the whole change in one step. */
  stepBytes?: number;
  /** Delay before each step; 0 applies every step at once, before qom-set is answered. */
  stepMs?: number;
  /** Move one step per this many query-memory-devices instead of by time (for tests on a jumping clock). */
  stepEveryQueries?: number;
  /** The device stops moving at this size (a guest that cannot plug or unplug any further). */
  stallAtBytes?: number;
  /** Send MEMORY_DEVICE_SIZE_CHANGE on every size change (default) or never (a lost or late event). */
  events?: 'each-change' | 'none';
}

interface FakeDevice extends Required<Omit<FakeDeviceOptions, 'stallAtBytes' | 'stepEveryQueries'>> {
  stallAtBytes: number | undefined;
  stepEveryQueries: number | undefined;
  queries: number;
  requestedSizeBytes: number;
  timer: NodeJS.Timeout | undefined;
}

/** Serves one client; answers qmp_capabilities, query-memory-devices, query-memory-size-summary, qom-set. */
export class FakeVirtioMemPeer {
  readonly socketPath: string;
  readonly received: Array<{ execute: string; arguments?: unknown }> = [];
  readonly devices: FakeDevice[];
  private readonly dir: string;
  private readonly server: Server;
  private socket: Socket | undefined;
  private buffered = '';

  constructor(devices: FakeDeviceOptions[], options: { baseMemoryBytes?: number } = {}) {
    this.devices = devices.map((device) => ({
      node: 1,
      blockSizeBytes: 2 * MiB,
      sizeBytes: 0,
      stepMs: 0,
      events: 'each-change',
      ...device,
      stepBytes: device.stepBytes ?? device.maxSizeBytes,
      stallAtBytes: device.stallAtBytes,
      stepEveryQueries: device.stepEveryQueries,
      queries: 0,
      requestedSizeBytes: device.sizeBytes ?? 0,
      timer: undefined,
    }));
    this.dir = mkdtempSync(join(tmpdir(), 'fake-vmem-'));
    this.socketPath = join(this.dir, 'qmp.sock');
    const baseMemoryBytes = options.baseMemoryBytes ?? 128 * MiB;
    this.server = createServer((socket) => {
      this.socket = socket;
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => this.onData(chunk, baseMemoryBytes));
      socket.on('error', () => undefined);
      this.send(QEMU_GREETING);
    });
  }

  listen(): Promise<this> {
    return new Promise((resolve) => this.server.listen(this.socketPath, () => resolve(this)));
  }

  /** Commands received after capability negotiation, by name. */
  get commands(): string[] {
    return this.received.map((message) => message.execute).filter((name) => name !== 'qmp_capabilities');
  }

  /** Sends MEMORY_DEVICE_SIZE_CHANGE as QEMU 7.2 does. */
  emitSizeChange(id: string, sizeBytes: number): void {
    this.sendEvent('MEMORY_DEVICE_SIZE_CHANGE', {
      size: sizeBytes,
      'qom-path': `/machine/peripheral/${id}`,
      id,
    });
  }

  async close(): Promise<void> {
    for (const device of this.devices) clearTimeout(device.timer);
    this.socket?.destroy();
    await new Promise((resolve) => this.server.close(resolve));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private onData(chunk: string, baseMemoryBytes: number): void {
    this.buffered += chunk;
    for (let newline = this.buffered.indexOf('\n'); newline !== -1; newline = this.buffered.indexOf('\n')) {
      const message = JSON.parse(this.buffered.slice(0, newline));
      this.buffered = this.buffered.slice(newline + 1);
      this.received.push({ execute: message.execute, arguments: message.arguments });
      this.answer(message, baseMemoryBytes);
    }
  }

  private answer(
    message: { execute: string; arguments?: Record<string, unknown>; id?: unknown },
    base: number,
  ) {
    const reply = (value: unknown) => this.send({ return: value, id: message.id });
    const fail = (desc: string) => this.send({ error: { class: 'GenericError', desc }, id: message.id });
    switch (message.execute) {
      case 'qmp_capabilities':
        return reply({});
      case 'query-memory-devices':
        for (const d of this.devices) {
          d.queries += 1;
          if (d.stepEveryQueries !== undefined && d.queries % d.stepEveryQueries === 0) this.step(d);
        }
        return reply(this.devices.map((d) => ({ type: 'virtio-mem', data: this.wireData(d) })));
      case 'query-memory-size-summary':
        return reply({
          'base-memory': base,
          'plugged-memory': this.devices.reduce((sum, d) => sum + d.sizeBytes, 0),
        });
      case 'qom-set': {
        const args = message.arguments ?? {};
        const device = this.devices.find((d) => d.id === args.path);
        if (device === undefined) return fail(`Device '${String(args.path)}' not found`);
        const value = Number(args.value);
        if (value > device.maxSizeBytes)
          return fail(`'requested-size' cannot exceed the memory backend size`);
        if (value % device.blockSizeBytes !== 0)
          return fail(`'requested-size' has to be multiples of 'block-size'`);
        device.requestedSizeBytes = value;
        clearTimeout(device.timer);
        const byTime = device.stepEveryQueries === undefined;
        if (byTime && device.stepMs === 0) while (this.step(device));
        reply({});
        if (byTime && device.stepMs > 0) this.schedule(device);
        return;
      }
      default:
        return this.send({ error: { class: 'CommandNotFound', desc: 'unexpected' }, id: message.id });
    }
  }

  private schedule(device: FakeDevice): void {
    device.timer = setTimeout(() => {
      if (this.step(device)) this.schedule(device);
    }, device.stepMs);
  }

  /** Moves the device one step toward its request; false when it cannot move. */
  private step(device: FakeDevice): boolean {
    const gap = device.requestedSizeBytes - device.sizeBytes;
    if (gap === 0 || device.sizeBytes === device.stallAtBytes) return false;
    let next = device.sizeBytes + Math.sign(gap) * Math.min(device.stepBytes, Math.abs(gap));
    const stall = device.stallAtBytes;
    if (stall !== undefined && (next - stall) * (device.sizeBytes - stall) < 0) next = stall;
    device.sizeBytes = next;
    if (device.events === 'each-change') this.emitSizeChange(device.id, next);
    return true;
  }

  private wireData(device: FakeDevice): Record<string, unknown> {
    return {
      id: device.id,
      memaddr: 4294967296,
      'requested-size': device.requestedSizeBytes,
      size: device.sizeBytes,
      'max-size': device.maxSizeBytes,
      'block-size': device.blockSizeBytes,
      node: device.node,
      memdev: `/objects/mem-${device.id.replace(/^vmem-/, '')}`,
    };
  }

  private sendEvent(event: string, data: unknown): void {
    this.send({ event, data, timestamp: { seconds: 1, microseconds: 2 } });
  }

  private send(message: unknown): void {
    this.socket?.write(`${JSON.stringify(message)}\n`);
  }
}
