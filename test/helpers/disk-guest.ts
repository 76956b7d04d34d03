// Integration helper: boots a disk image (boot.json beside it) with plain QEMU through a throw-away overlay.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { type GuestMessage, guestMessageSchema } from '../../src/agent/protocol.js';
import { JsonLines, type JsonObject } from '../../src/qmp/framing.js';
import { buildQemuArgv } from '../../src/vm/argv.js';
import { createRunDir, resolveQemuBinary } from '../../src/vm/machine.js';
import { decideQemuUser } from '../../src/vm/qemu-user.js';
import { type MachineSpec, type RunPaths, runPathsOf } from '../../src/vm/spec.js';

const bootJsonSchema = z.strictObject({
  format: z.enum(['qcow2', 'raw']),
  disk: z.string(),
  kernel: z.string(),
  initrd: z.string(),
  cmdline: z.string(),
});
export type BootJson = z.infer<typeof bootJsonSchema>;

/** boot.json of an image folder (images/out/debian), or why it cannot be used. */
export function readBootJson(imageDir: string): { boot: BootJson } | { missing: string } {
  const path = join(imageDir, 'boot.json');
  if (!existsSync(path)) return { missing: `${path} does not exist (run \`make images\`)` };
  const boot = bootJsonSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  for (const file of [boot.disk, boot.kernel, boot.initrd]) {
    if (!existsSync(join(imageDir, file))) return { missing: `${join(imageDir, file)} does not exist` };
  }
  return { boot };
}

export interface DiskGuest {
  child: ChildProcess;
  argv: string[];
  paths: RunPaths;
  overlayPath: string;
  /** SIGKILLs QEMU (we started it) and waits for it to exit. */
  kill(): Promise<void>;
}

/**
 * Starts QEMU for `spec` with the image's kernel, initrd and command line, its root disk a fresh
 * qcow2 overlay on the image's disk (virtio-blk), as the QEMU user when the host has one.
 * `dropKernelArgs` removes words baton's command line would carry (e.g. memhp_default_state=).
 */
export async function startDiskGuest(
  imageDir: string,
  boot: BootJson,
  spec: Omit<MachineSpec, 'runDir' | 'kernelPath' | 'initrdPath'>,
  options: { runParent: string; dropKernelArgs?: readonly string[] },
): Promise<DiskGuest> {
  const runDir = await createRunDir(options.runParent, spec.name);
  const paths = runPathsOf(runDir);
  const overlayPath = join(runDir, 'root.qcow2');
  const basePath = resolve(imageDir, boot.disk);
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', basePath, '-F', boot.format, overlayPath]);
  const argv = buildQemuArgv({
    ...spec,
    runDir,
    kernelPath: resolve(imageDir, boot.kernel),
    initrdPath: resolve(imageDir, boot.initrd),
    extraKernelArgs: [...boot.cmdline.split(' ').filter(Boolean), ...(spec.extraKernelArgs ?? [])],
  });
  const appendIndex = argv.indexOf('-append') + 1;
  const dropped = options.dropKernelArgs ?? [];
  argv[appendIndex] = (argv[appendIndex] ?? '')
    .split(' ')
    .filter((word) => !dropped.some((prefix) => word.startsWith(prefix)))
    .join(' ');
  argv.push(
    '-drive',
    `file=${overlayPath},format=qcow2,if=none,id=root`,
    '-device',
    'virtio-blk-pci,drive=root',
  );
  const user = decideQemuUser(options.runParent).user;
  const logFd = openSync(paths.qemuLog, 'a', 0o600);
  try {
    if (user !== undefined) {
      for (const path of [runDir, overlayPath, paths.qemuLog]) chownSync(path, user.uid, user.gid);
    }
    const child = spawn(resolveQemuBinary(), argv, {
      stdio: ['ignore', logFd, logFd],
      detached: true,
      ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const kill = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    };
    return { child, argv, paths, overlayPath, kill };
  } finally {
    closeSync(logFd);
  }
}

/** The host end of the agent channel: the guest's messages in order, and requests with ids. */
export class AgentLink {
  private readonly queue: GuestMessage[] = [];
  private wake: (() => void) | undefined;
  private nextId = 1;

  private constructor(
    private readonly socket: Socket,
    lines: JsonLines,
  ) {
    lines.on('message', (message: JsonObject) => {
      this.queue.push(guestMessageSchema.parse(message));
      this.wake?.();
    });
  }

  /** Connects to the agent socket, retrying until QEMU has created it or `timeoutMs` passes. */
  static async connect(socketPath: string, timeoutMs: number): Promise<AgentLink> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((done, fail) => {
          const s = connect(socketPath);
          s.once('connect', () => done(s));
          s.once('error', fail);
        });
        return new AgentLink(socket, new JsonLines(socket));
      } catch (error) {
        if (performance.now() > deadline) throw error;
        await new Promise((done) => setTimeout(done, 100));
      }
    }
  }

  /** The next message other than a heartbeat; throws after `timeoutMs`. */
  async next(timeoutMs: number): Promise<GuestMessage> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const message = this.queue.shift();
      if (message !== undefined && message.type !== 'heartbeat') return message;
      if (message !== undefined) continue;
      const leftMs = deadline - performance.now();
      if (leftMs <= 0) throw new Error(`no message from the agent within ${timeoutMs} ms`);
      await new Promise<void>((done) => {
        const timer = setTimeout(done, leftMs);
        this.wake = () => {
          clearTimeout(timer);
          done();
        };
      });
    }
  }

  /** Sends a request and returns the result of its successful reply. */
  async request(type: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    this.socket.write(`${JSON.stringify({ type, id })}\n`);
    const reply = await this.next(timeoutMs);
    if (reply.type !== 'reply' || reply.id !== id || !reply.ok) {
      throw new Error(`${type}: unexpected answer ${JSON.stringify(reply)}`);
    }
    return reply.result;
  }

  close(): void {
    this.socket.destroy();
  }
}
