import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { QmpCommandError, QmpDisconnectedError } from '../../../src/errors.js';
import { createSilentLogger } from '../../../src/log.js';
import { QmpClient } from '../../../src/qmp/client.js';
import {
  type MemoryDeviceSizeChange,
  onMemoryDeviceSizeChange,
  queryMemoryDevices,
  queryMemorySizeSummary,
  queryStatus,
  quitVm,
  setVirtioMemRequestedSize,
} from '../../../src/qmp/commands.js';
import { connectQmp } from '../../../src/qmp/connect.js';
import { JsonLines } from '../../../src/qmp/framing.js';
import { MiB } from '../../../src/units.js';
import { readTranscripts, type Transcript, TranscriptPeer } from '../../fakes/transcript-peer.js';

const log = createSilentLogger();
const transcripts = readTranscripts();
const SCENARIOS = ['greeting-and-queries', 'virtio-mem-plug', 'errors', 'panic'];
const DEVICE_ID = 'vmem-slot0';
const EMPTY_SLOT = {
  kind: 'virtio-mem',
  id: DEVICE_ID,
  node: 1,
  sizeBytes: 0,
  maxSizeBytes: 512 * MiB,
  blockSizeBytes: 2 * MiB,
  requestedSizeBytes: 0,
  memdev: '/objects/mem-slot0',
  addressBytes: 4096 * MiB,
};

let peer: TranscriptPeer | undefined;
let client: QmpClient | undefined;

afterEach(async () => {
  client?.close();
  client = undefined;
  await peer?.close();
  peer = undefined;
});

function transcriptsOf(scenario: string): Transcript[] {
  return transcripts.filter((transcript) => transcript.header.scenario === scenario);
}

/** Serves `transcript` and connects the real client to it (greeting and capabilities included). */
async function replay(transcript: Transcript): Promise<{ qmp: QmpClient; peer: TranscriptPeer }> {
  peer = await new TranscriptPeer(transcript).listen();
  client = await connectQmp(peer.socketPath, { vm: 'vm-a', log, timeoutMs: 2000 });
  return { qmp: client, peer };
}

function expectReplayedInFull(replayed: TranscriptPeer): void {
  expect(replayed.mismatches).toEqual([]);
  expect(replayed.remainingCommands).toEqual([]);
}

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Polls query-memory-devices until the slot reaches `sizeBytes`, as the recording did; returns every size seen. */
async function pollSlotSizes(qmp: QmpClient, sizeBytes: number): Promise<number[]> {
  const seen: number[] = [];
  while (seen.at(-1) !== sizeBytes && seen.length < 200) {
    const [device] = await queryMemoryDevices(qmp);
    expect(device).toMatchObject({ kind: 'virtio-mem', id: DEVICE_ID, requestedSizeBytes: sizeBytes });
    seen.push(device !== undefined && 'sizeBytes' in device ? device.sizeBytes : Number.NaN);
  }
  return seen;
}

describe('recorded QMP transcripts', () => {
  it('hold every scenario, each written by the recording script with the greeting’s QEMU version', () => {
    expect([...new Set(transcripts.map((t) => t.header.scenario))].sort()).toEqual([...SCENARIOS].sort());
    for (const { file, header, lines } of transcripts) {
      expect(header.recordedBy).toBe('scripts/record-qmp-transcripts.ts');
      expect(file).toBe(`qemu-${header.qemu}-${header.scenario}.jsonl`);
      const greeting = lines[0]?.message.QMP as { version: { qemu: Record<string, number> } } | undefined;
      const { major, minor, micro } = greeting?.version.qemu ?? {};
      expect(`${major}.${minor}.${micro}`).toBe(header.qemu);
    }
  });
});

describe.each(transcriptsOf('greeting-and-queries'))('$file', (transcript) => {
  it('hands the greeting to negotiate, then capabilities make the client ready', async () => {
    peer = await new TranscriptPeer(transcript).listen();
    client = new QmpClient(new JsonLines(await openSocket(peer.socketPath)), { vm: 'vm-a', log });
    const greeting = await client.negotiate(2000);
    expect(greeting).toMatchObject({
      version: { package: transcript.header.package },
      capabilities: ['oob'],
    });
    expect(client.state).toBe('ready');
    expect(peer.received).toEqual([{ execute: 'qmp_capabilities', id: 1 }]);
  });

  it('parses run state, memory summary and the empty virtio-mem slot of an idle guest', async () => {
    const { qmp, peer } = await replay(transcript);
    expect(await queryStatus(qmp)).toEqual({ isRunning: true, runState: 'running' });
    expect(await queryMemorySizeSummary(qmp)).toEqual({ baseMemoryBytes: 128 * MiB, pluggedMemoryBytes: 0 });
    expect(await queryMemoryDevices(qmp)).toEqual([EMPTY_SLOT]);
    expect(qmp.events).toEqual([]);
    expectReplayedInFull(peer);
  });

  it('answers with the client’s own ids', async () => {
    peer = await new TranscriptPeer(transcript).listen();
    const lines = new JsonLines(await openSocket(peer.socketPath));
    const received: unknown[] = [];
    const replied = new Promise<void>((resolve) =>
      lines.on('message', (message) => {
        received.push(message);
        if ('return' in message) resolve();
      }),
    );
    await new Promise((resolve) => lines.once('message', resolve));
    lines.send({ execute: 'qmp_capabilities', id: 'caps-1' });
    await replied;
    expect(received.at(-1)).toEqual({ return: {}, id: 'caps-1' });
    lines.close();
  });

  it('collects a command that differs from the recording and answers it with an error', async () => {
    const { qmp, peer } = await replay(transcript);
    const error = await queryMemoryDevices(qmp).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpCommandError);
    expect(peer.mismatches).toEqual(['expected query-status, got query-memory-devices']);
    expect(peer.remainingCommands).toEqual([
      'query-status',
      'query-memory-size-summary',
      'query-memory-devices',
    ]);
  });
});

describe.each(transcriptsOf('virtio-mem-plug'))('$file', (transcript) => {
  it('plugs 256 MiB into vmem-slot0 and unplugs it, seen in polls and size-change events', async () => {
    const { qmp, peer } = await replay(transcript);
    const changes: MemoryDeviceSizeChange[] = [];
    onMemoryDeviceSizeChange(qmp, (change) => changes.push(change));
    expect(await queryMemoryDevices(qmp)).toEqual([EMPTY_SLOT]);

    await setVirtioMemRequestedSize(qmp, DEVICE_ID, 256 * MiB);
    const growing = await pollSlotSizes(qmp, 256 * MiB);
    expect(growing.at(-1)).toBe(256 * MiB);
    expect(growing).toEqual([...growing].sort((a, b) => a - b));
    const first = await qmp.waitForEvent('MEMORY_DEVICE_SIZE_CHANGE', { id: DEVICE_ID }, 1000);
    expect(first.data).toEqual({
      id: DEVICE_ID,
      'qom-path': `/machine/peripheral/${DEVICE_ID}`,
      size: expect.any(Number),
    });
    // QEMU's own timestamp comes through as recorded.
    const recorded = transcript.lines.find((line) => line.message.event === 'MEMORY_DEVICE_SIZE_CHANGE');
    const stamp = recorded?.message.timestamp as { seconds: number; microseconds: number };
    expect(first.qemuTimestampUs).toBe(stamp.seconds * 1e6 + stamp.microseconds);
    expect(changes.at(-1)).toMatchObject({ deviceId: DEVICE_ID, sizeBytes: 256 * MiB });
    for (const change of changes) {
      expect(change.qomPath).toBe(`/machine/peripheral/${DEVICE_ID}`);
      expect(change.sizeBytes % (2 * MiB)).toBe(0);
      expect(change.sizeBytes).toBeGreaterThan(0);
    }
    expect(await queryMemorySizeSummary(qmp)).toEqual({
      baseMemoryBytes: 128 * MiB,
      pluggedMemoryBytes: 256 * MiB,
    });

    const plugEvents = changes.length;
    await setVirtioMemRequestedSize(qmp, DEVICE_ID, 0);
    const shrinking = await pollSlotSizes(qmp, 0);
    expect(shrinking).toEqual([...shrinking].sort((a, b) => b - a));
    expect(shrinking[0]).toBe(256 * MiB);
    const emptied = await qmp.waitForEvent('MEMORY_DEVICE_SIZE_CHANGE', { id: DEVICE_ID, size: 0 }, 1000);
    expect(emptied.data.size).toBe(0);
    expect(changes.length).toBeGreaterThan(plugEvents);
    expect(changes.at(-1)).toMatchObject({ deviceId: DEVICE_ID, sizeBytes: 0 });
    expect(await queryMemorySizeSummary(qmp)).toEqual({ baseMemoryBytes: 128 * MiB, pluggedMemoryBytes: 0 });
    expectReplayedInFull(peer);
  });
});

describe.each(transcriptsOf('errors'))('$file', (transcript) => {
  it('reports QEMU’s error class and description for each refused request, and nothing changes', async () => {
    const { qmp, peer } = await replay(transcript);
    const refusals: Array<[() => Promise<unknown>, { command: string; errorClass: string; desc: string }]> = [
      [
        () => setVirtioMemRequestedSize(qmp, DEVICE_ID, 1024 * MiB),
        {
          command: 'qom-set',
          errorClass: 'GenericError',
          desc: "'requested-size' cannot exceed the memory backend size(0x20000000)",
        },
      ],
      [
        () => setVirtioMemRequestedSize(qmp, DEVICE_ID, 3 * MiB),
        {
          command: 'qom-set',
          errorClass: 'GenericError',
          desc: "'requested-size' has to be multiples of 'block-size' (0x200000)",
        },
      ],
      [
        () => setVirtioMemRequestedSize(qmp, 'vmem-no-such-slot', 256 * MiB),
        { command: 'qom-set', errorClass: 'DeviceNotFound', desc: "Device 'vmem-no-such-slot' not found" },
      ],
      [
        () => qmp.execute('device_add', { driver: 'virtio-rng-pci', id: 'rng-bad', bus: 'pcie.0' }),
        {
          command: 'device_add',
          errorClass: 'GenericError',
          desc: "Bus 'pcie.0' does not support hotplugging",
        },
      ],
      [
        () => qmp.execute('device_add', { driver: 'no-such-device', id: 'bad0', bus: 'pcie.0' }),
        {
          command: 'device_add',
          errorClass: 'GenericError',
          desc: "'no-such-device' is not a valid device model name",
        },
      ],
      [
        () => qmp.execute('no-such-command', {}),
        {
          command: 'no-such-command',
          errorClass: 'CommandNotFound',
          desc: 'The command no-such-command has not been found',
        },
      ],
    ];
    for (const [send, expected] of refusals) {
      const error = await send().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QmpCommandError);
      expect(error).toMatchObject({ code: 'QMP_COMMAND_FAILED', vm: 'vm-a', ...expected });
      expect((error as Error).message).toBe(`QMP ${expected.command} failed on vm-a: ${expected.desc}`);
    }
    expect(qmp.state).toBe('ready');
    expect(await queryMemoryDevices(qmp)).toEqual([EMPTY_SLOT]);
    expectReplayedInFull(peer);
  });

  it('collects a resize whose arguments differ from the recording', async () => {
    const { qmp, peer } = await replay(transcript);
    await expect(setVirtioMemRequestedSize(qmp, DEVICE_ID, 2048 * MiB)).rejects.toThrow(
      /transcript mismatch/,
    );
    expect(peer.mismatches).toEqual([
      'qom-set: expected arguments {"path":"vmem-slot0","property":"requested-size","value":1073741824}, ' +
        'got {"path":"vmem-slot0","property":"requested-size","value":2147483648}',
    ]);
  });
});

describe.each(transcriptsOf('panic'))('$file', (transcript) => {
  it('sees GUEST_PANICKED and STOP, the guest-panicked run state, then SHUTDOWN and the close after quit', async () => {
    const { qmp, peer } = await replay(transcript);
    const closed = new Promise<void>((resolve) => qmp.once('close', resolve));
    expect(await queryStatus(qmp)).toEqual({ isRunning: true, runState: 'running' });

    const panicked = await qmp.waitForEvent('GUEST_PANICKED', undefined, 1000);
    expect(panicked.data).toEqual({ action: 'pause' });
    expect(await queryStatus(qmp)).toEqual({ isRunning: false, runState: 'guest-panicked' });
    const stopped = await qmp.waitForEvent('STOP', undefined, 1000);
    expect(stopped.qemuTimestampUs).toBeGreaterThanOrEqual(panicked.qemuTimestampUs);

    await quitVm(qmp, 1000);
    const shutdown = await qmp.waitForEvent('SHUTDOWN', undefined, 1000);
    expect(shutdown.data).toEqual({ guest: false, reason: 'host-qmp-quit' });
    await closed;
    expect(qmp.state).toBe('closed');
    await expect(queryStatus(qmp)).rejects.toBeInstanceOf(QmpDisconnectedError);
    expectReplayedInFull(peer);
  });
});
