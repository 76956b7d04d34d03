// I6 (RELIABILITY.md): memory handed from one VM to the other holds none of the first VM's bytes.
// A random canary goes into kvd's memory on the giving VM as a request kvd refuses (answered with
// an error, never written to its disk log, so nothing may bring it back legitimately); QEMU's own
// dump of the slot (pmemsave) shows it there, so the check can fail. After the hand-over the
// receiving VM's slots are dumped and searched. A second token, written with SET, must show up
// there (kvd replays its log), proving the dump reads the memory kvd uses now.
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvClient } from '../../src/endpoint/kv-client.js';
import { createLogger } from '../../src/log.js';
import { deviceIdOf } from '../../src/memory/mechanism.js';
import { VirtioMemMechanism } from '../../src/memory/virtio-mem.js';
import { defaultPairConfig } from '../../src/pair/config.js';
import { Pair } from '../../src/pair/pair.js';
import { queryMemoryDevices, saveGuestMemory, type VirtioMemInfo } from '../../src/qmp/commands.js';
import { MiB } from '../../src/units.js';
import { readProcessIds } from '../../src/vm/qemu-user.js';
import { expectTableMatchesQemu, qemuPidsUnder } from '../helpers/audit.js';
import { hostAccel } from '../helpers/vm-fixture.js';

const CHUNK_BYTES = 32 * MiB;
const stateDir = mkdtempSync(join(tmpdir(), 'baton-canary-'));
/** Where QEMU writes the dumps: private (mkdtemp makes it 0700), removed after each search. */
const dumpDir = mkdtempSync(join(tmpdir(), 'baton-canary-dump-'));
let pair: Pair | undefined;

beforeAll(async () => {
  const log = createLogger({ level: process.env.BATON_LOG_LEVEL ?? 'warn' });
  pair = await Pair.start(defaultPairConfig(stateDir), {
    log,
    accel: (await hostAccel()).accel,
    mechanism: new VirtioMemMechanism({ log }),
  });
}, 180_000);

afterAll(async () => {
  await pair?.stop();
  expect(qemuPidsUnder(stateDir)).toEqual([]);
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(dumpDir, { recursive: true, force: true });
}, 60_000);

function requirePair(): Pair {
  if (pair === undefined) throw new Error('the pair did not start');
  return pair;
}

/** True when `token` occurs in the guest-physical memory of `slots` of `vmName` (default: all), each dumped whole. */
async function slotsHold(vmName: string, token: string, slots?: readonly string[]): Promise<boolean> {
  const vm = requirePair().vms.get(vmName);
  if (vm === undefined) throw new Error(`${vmName} is not in the pair`);
  const wanted = new Set((slots ?? vm.machine.spec.slots.map((s) => s.id)).map(deviceIdOf));
  const devices = (await queryMemoryDevices(vm.machine.qmp)).filter(
    (d): d is VirtioMemInfo => d.kind === 'virtio-mem' && wanted.has(d.id),
  );
  expect(devices).toHaveLength(wanted.size);
  const needle = Buffer.from(token);
  // QEMU writes the dump as the user it runs as: the private folder is handed to that user.
  const owner = readProcessIds(vm.machine.pid);
  if (owner === undefined) throw new Error(`${vmName}'s QEMU is gone`);
  chownSync(dumpDir, owner.uid, owner.gid);
  for (const device of devices) {
    for (let offset = 0; offset < device.maxSizeBytes; offset += CHUNK_BYTES) {
      const path = join(dumpDir, `${vmName}-${device.id}-${offset}.bin`);
      await saveGuestMemory(vm.machine.qmp, {
        addressBytes: device.addressBytes + offset,
        sizeBytes: Math.min(CHUNK_BYTES, device.maxSizeBytes - offset),
        path,
      });
      const isFound = readFileSync(path).includes(needle);
      rmSync(path);
      if (isFound) return true;
    }
  }
  return false;
}

/** Sends kvd a request it refuses, holding `token` 15 times; the connection stays open so kvd keeps the bytes. */
async function writeCanary(port: number, token: string): Promise<KvClient> {
  const client = await KvClient.connect(port);
  expect(await client.request(`CANARY ${token.repeat(15)}`)).toBe('ERR unknown command');
  return client;
}

function newToken(): string {
  return randomBytes(16).toString('hex');
}

describe('memory handed to the other VM holds none of the giving VM bytes (I6)', () => {
  it('a whole-VM failover on a panic: vm-b gets no byte kvd held on vm-a', async () => {
    const p = requirePair();
    const port = p.endpointPort('kvd');
    const canary = newToken();
    const replayed = newToken();
    const writer = await KvClient.connect(port);
    expect(await writer.request(`SET probe ${replayed}`)).toBe('OK');
    writer.close();
    const client = await writeCanary(port, canary);
    expect(await slotsHold('vm-a', canary, [slotOfKvd()])).toBe(true);
    expect(await slotsHold('vm-b', canary)).toBe(false);
    await p.activeVm?.machine.agent.injectPanic(3000).catch(() => undefined);
    const startedAtMs = performance.now();
    while (p.history.length === 0 && performance.now() - startedAtMs < 120_000)
      await new Promise((r) => setTimeout(r, 100));
    client.close();
    expect(p.history[0]).toMatchObject({ kind: 'whole-vm', result: 'succeeded', toVm: 'vm-b' });
    expect(await slotsHold('vm-b', replayed, [slotOfKvd()])).toBe(true);
    expect(await slotsHold('vm-b', canary)).toBe(false);
    await expectTableMatchesQemu(p);
  });

  it('a single-app move: vm-a gets no byte kvd held on vm-b, and vm-b keeps none in the unplugged slot', async () => {
    const p = requirePair();
    const startedAtMs = performance.now();
    while (p.state !== 'protected' && performance.now() - startedAtMs < 120_000)
      await new Promise((r) => setTimeout(r, 200));
    expect(p.roles).toEqual({ active: 'vm-b', standby: 'vm-a' });
    const port = p.endpointPort('kvd');
    const canary = newToken();
    const client = await writeCanary(port, canary);
    expect(await slotsHold('vm-b', canary, [slotOfKvd()])).toBe(true);
    const record = await p.moveApp('kvd', { reason: 'operator request' });
    client.close();
    expect(record).toMatchObject({ kind: 'app', result: 'succeeded', toVm: 'vm-a' });
    const reader = await KvClient.connect(port, 60_000);
    const replayed = (await reader.request('GET probe'))?.replace(/^VALUE /, '') ?? '';
    reader.close();
    expect(replayed).toMatch(/^[0-9a-f]{32}$/);
    expect(await slotsHold('vm-a', replayed, [slotOfKvd()])).toBe(true);
    expect(await slotsHold('vm-a', canary)).toBe(false);
    expect(await slotsHold('vm-b', canary, [slotOfKvd()])).toBe(false);
    await expectTableMatchesQemu(p);
  });
});

/** kvd's slot id, from the config. */
function slotOfKvd(): string {
  return requirePair().config.apps.find((a) => a.name === 'kvd')?.slot ?? 'missing';
}
