// Boots one real guest and records QMP wire traffic per scenario into test/fixtures/qmp/ (make qmp-transcripts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentChannel } from '../src/agent/channel.js';
import { WaitTimeoutError } from '../src/errors.js';
import { createLogger, type Logger } from '../src/log.js';
import { defaultImagePaths, PACKAGE_ROOT } from '../src/paths.js';
import { QmpClient } from '../src/qmp/client.js';
import {
  queryMemoryDevices,
  queryMemorySizeSummary,
  queryStatus,
  setVirtioMemRequestedSize,
} from '../src/qmp/commands.js';
import { JsonLines, type JsonObject } from '../src/qmp/framing.js';
import { MiB } from '../src/units.js';
import { bootGuest } from '../src/vm/boot.js';
import { resolveAccel } from '../src/vm/host-accel.js';
import type { Machine } from '../src/vm/machine.js';
import type { MachineSpec } from '../src/vm/spec.js';

const FIXTURE_DIR = join(PACKAGE_ROOT, 'test', 'fixtures', 'qmp');
const RECORDED_BY = 'scripts/record-qmp-transcripts.ts';
const DEVICE_ID = 'vmem-slot0';
const SLOT_MAX_BYTES = 512 * MiB;
const PLUG_BYTES = 256 * MiB;
const POLL_INTERVAL_MS = 100;
/** TCG guests online and offline memory slowly; the size-change event lags the device by up to ~1 s. */
const RESIZE_TIMEOUT_MS = 60_000;
const EVENT_TIMEOUT_MS = 10_000;

type Direction = 'send' | 'recv';

interface Recording {
  scenario: string;
  greeting: JsonObject;
  lines: Array<{ direction: Direction; message: JsonObject }>;
  closedBy: 'client' | 'qemu';
}

interface ScenarioContext {
  qmp: QmpClient;
  agent: AgentChannel;
}

interface Scenario {
  name: string;
  /** What the transcript shows, written into its header. */
  description: string;
  run(context: ScenarioContext): Promise<void>;
}

const scenarios: Scenario[] = [
  {
    name: 'greeting-and-queries',
    description:
      'greeting, capabilities, run state and memory of an idle guest with one empty virtio-mem slot',
    run: async ({ qmp }) => {
      await queryStatus(qmp);
      await queryMemorySizeSummary(qmp);
      await queryMemoryDevices(qmp);
    },
  },
  {
    name: 'virtio-mem-plug',
    description: `requested-size ${PLUG_BYTES / MiB} MiB on ${DEVICE_ID}, polled until plugged, then back to 0`,
    run: async ({ qmp }) => {
      await queryMemoryDevices(qmp);
      for (const sizeBytes of [PLUG_BYTES, 0]) {
        await setVirtioMemRequestedSize(qmp, DEVICE_ID, sizeBytes);
        await pollDeviceSize(qmp, sizeBytes);
        // The last size-change event can trail the device by a second: take it before the next command.
        await qmp.waitForEvent(
          'MEMORY_DEVICE_SIZE_CHANGE',
          { id: DEVICE_ID, size: sizeBytes },
          EVENT_TIMEOUT_MS,
        );
        await queryMemorySizeSummary(qmp);
      }
    },
  },
  {
    name: 'errors',
    description:
      'refused requests: oversized and misaligned resize, unknown device, bad device_add, unknown command',
    run: async ({ qmp }) => {
      const refusals: Array<[string, JsonObject]> = [
        ['qom-set', { path: DEVICE_ID, property: 'requested-size', value: 2 * SLOT_MAX_BYTES }],
        ['qom-set', { path: DEVICE_ID, property: 'requested-size', value: 3 * MiB }],
        ['qom-set', { path: 'vmem-no-such-slot', property: 'requested-size', value: PLUG_BYTES }],
        ['device_add', { driver: 'virtio-rng-pci', id: 'rng-bad', bus: 'pcie.0' }],
        ['device_add', { driver: 'no-such-device', id: 'bad0', bus: 'pcie.0' }],
        ['no-such-command', {}],
      ];
      for (const [command, args] of refusals) {
        const outcome = await qmp.execute(command, args).then(
          () => 'accepted',
          () => 'refused',
        );
        if (outcome !== 'refused') throw new Error(`QEMU accepted ${command} ${JSON.stringify(args)}`);
      }
      // Nothing changed.
      await queryMemoryDevices(qmp);
    },
  },
  {
    name: 'panic',
    description: 'guest kernel panic through the agent (pvpanic, panic=pause), run state after it, then quit',
    run: async ({ qmp, agent }) => {
      await queryStatus(qmp);
      await agent.injectPanic(5000);
      await qmp.waitForEvent('GUEST_PANICKED', undefined, 30_000);
      await queryStatus(qmp);
      const closed = new Promise<void>((resolve) => qmp.once('close', resolve));
      // quit's reply may be lost when QEMU closes the socket first: the close is the confirmation.
      await qmp.execute('quit').catch(() => undefined);
      await qmp.waitForEvent('SHUTDOWN', undefined, EVENT_TIMEOUT_MS).catch(() => undefined);
      await withDeadline(closed, EVENT_TIMEOUT_MS, 'QEMU to close QMP after quit');
    },
  },
];

async function pollDeviceSize(qmp: QmpClient, sizeBytes: number): Promise<void> {
  const deadline = performance.now() + RESIZE_TIMEOUT_MS;
  let lastSeen = 'nothing';
  for (;;) {
    const device = (await queryMemoryDevices(qmp)).find((d) => d.id === DEVICE_ID);
    const current = device !== undefined && 'sizeBytes' in device ? device.sizeBytes : undefined;
    if (current === sizeBytes) return;
    lastSeen = `size ${current}`;
    if (performance.now() >= deadline) {
      throw new WaitTimeoutError({
        waitedFor: `${DEVICE_ID} to reach ${sizeBytes} bytes`,
        timeoutMs: RESIZE_TIMEOUT_MS,
        lastSeen,
      });
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

/** Opens its own QMP connection with a tap on the line channel: every line in and out, in order. */
async function record(machine: Machine, scenario: Scenario, log: Logger): Promise<Recording> {
  const lines: Recording['lines'] = [];
  const channel = new JsonLines(await openSocket(machine.paths.qmpSocket));
  // Registered before the client's own listener, so a reply is recorded before what it triggers.
  channel.on('message', (message) => lines.push({ direction: 'recv', message }));
  const send = channel.send.bind(channel);
  channel.send = (message: JsonObject) => {
    lines.push({ direction: 'send', message: structuredClone(message) });
    return send(message);
  };
  const qmp = new QmpClient(channel, { vm: machine.spec.name, log });
  let closedBy: Recording['closedBy'] = 'qemu';
  try {
    const greeting = await qmp.negotiate();
    await scenario.run({ qmp, agent: machine.agent });
    if (!channel.closed) {
      closedBy = 'client';
      qmp.close();
    }
    return { scenario: scenario.name, greeting, lines, closedBy };
  } catch (error) {
    qmp.close();
    throw error;
  }
}

function versionOf(greeting: JsonObject): { version: string; package: string } {
  const version = greeting.version as {
    qemu: { major: number; minor: number; micro: number };
    package: string;
  };
  const { major, minor, micro } = version.qemu;
  return { version: `${major}.${minor}.${micro}`, package: version.package.trim() };
}

function transcriptText(recording: Recording, scenario: Scenario, accel: string): string {
  const { version, package: qemuPackage } = versionOf(recording.greeting);
  const header = {
    qemu: version,
    package: qemuPackage,
    recordedBy: RECORDED_BY,
    scenario: recording.scenario,
    description: scenario.description,
    accel,
    closedBy: recording.closedBy,
  };
  return [header, ...recording.lines]
    .map((line) => JSON.stringify(line))
    .join('\n')
    .concat('\n');
}

async function main(): Promise<void> {
  const accel = await resolveAccel('auto');
  console.log(`record: accelerator ${accel.accel} (${accel.reason})`);
  const image = defaultImagePaths();
  const spec: Omit<MachineSpec, 'runDir'> = {
    name: 'vm-rec',
    role: 'standby',
    accel: accel.accel,
    cpus: 1,
    baseMemoryBytes: 128 * MiB,
    maxMemoryBytes: 2048 * MiB,
    slots: [{ id: 'slot0', maxSizeBytes: SLOT_MAX_BYTES, requestedSizeBytes: 0, blockSizeBytes: 2 * MiB }],
    kernelPath: image.kernelPath,
    initrdPath: image.initrdPath,
    heartbeatMs: 1000,
    tcgTbSizeMiB: 16,
    extraKernelArgs: ['baton.faults=1'],
  };
  const runParent = mkdtempSync(join(tmpdir(), 'baton-rec-'));
  const log = createLogger({ level: process.env.BATON_LOG_LEVEL ?? 'warn' });
  const { machine, bootMs } = await bootGuest(spec, { runParent, log });
  console.log(`record: ${spec.name} booted to the agent's hello in ${Math.round(bootMs)} ms`);
  const texts = new Map<string, string>();
  let isDone = false;
  try {
    // The QMP chardev takes one client at a time: free it for the recording connections.
    machine.qmp.close();
    for (const scenario of scenarios) {
      const recording = await record(machine, scenario, log);
      const { version } = versionOf(recording.greeting);
      const file = `qemu-${version}-${scenario.name}.jsonl`;
      texts.set(file, transcriptText(recording, scenario, accel.accel));
      console.log(`record: ${file}: ${recording.lines.length} lines`);
    }
    await withDeadline(machine.exited, EVENT_TIMEOUT_MS, 'QEMU to exit after quit');
    isDone = true;
  } finally {
    if (!isDone) {
      console.log(
        `record: failed; QEMU log ${machine.paths.qemuLog}, serial console ${machine.paths.serialLog}`,
      );
      await machine.kill();
    }
    await machine.shutdown({ keepRunDir: !isDone });
    if (isDone) rmSync(runParent, { recursive: true, force: true });
  }
  // Written only when every scenario succeeded, so the fixtures always come from one run.
  mkdirSync(FIXTURE_DIR, { recursive: true });
  for (const [file, text] of texts) writeFileSync(join(FIXTURE_DIR, file), text);
  console.log(`record: wrote ${texts.size} transcripts to ${FIXTURE_DIR}`);
}

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

async function withDeadline<T>(promise: Promise<T>, timeoutMs: number, waitedFor: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WaitTimeoutError({ waitedFor, timeoutMs })), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((error: unknown) => {
  console.error(`record: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
});
