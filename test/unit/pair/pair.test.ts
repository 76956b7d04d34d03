import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MemoryMechanism } from '../../../src/memory/mechanism.js';
import { defaultPairConfig } from '../../../src/pair/config.js';
import { pingOnce } from '../../../src/pair/health.js';
import { Pair } from '../../../src/pair/pair.js';
import { bootPairVm } from '../../../src/pair/vm-factory.js';
import { defaultImagePaths } from '../../../src/paths.js';
import { appAreaName, findArea } from '../../../src/table/index.js';
import { MiB } from '../../../src/units.js';
import { type FakeVm, fakeMechanism, fakeVm, recordingLogger, startPongServer } from './fake-pair.js';

// The boots are QEMU's (integration tests): here each VM is a scripted fake. A fresh start checks
// the guest image first, so these tests need `make images`.
vi.mock('../../../src/pair/vm-factory.js', () => ({ bootPairVm: vi.fn() }));
const boot = vi.mocked(bootPairVm);
const hasImages = existsSync(defaultImagePaths().kernelPath) && existsSync(defaultImagePaths().initrdPath);
if (!hasImages) console.warn('pair.test.ts skipped: no guest image in images/out (run `make images`)');

const root = mkdtempSync(join(tmpdir(), 'baton-pair-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Two fake VMs whose apps answer PING; each boot hands out one (or fails with the error given). */
async function scriptedPair(failures: Record<string, Error> = {}) {
  const vms: Record<string, FakeVm> = {};
  for (const name of ['vm-a', 'vm-b']) {
    const port = await startPongServer();
    const fake = fakeVm(name, { hostPort: port });
    fake.vm.forwards.set('cache', port);
    vms[name] = fake;
  }
  boot.mockImplementation(async (_config, name) => {
    const failure = failures[name];
    if (failure !== undefined) throw failure;
    return (vms[name] as FakeVm).vm;
  });
  const mechanism = fakeMechanism(Object.values(vms));
  const config = defaultPairConfig(mkdtempSync(join(root, 'state-')));
  const { log } = recordingLogger();
  const start = () =>
    Pair.start(config, { log, accel: 'tcg', mechanism: mechanism as unknown as MemoryMechanism });
  return { vms: vms as { 'vm-a': FakeVm; 'vm-b': FakeVm }, mechanism, start };
}

beforeEach(() => {
  boot.mockReset();
});

describe.skipIf(!hasImages)('Pair.start and stop', () => {
  it('boots both VMs, starts every app on the active, routes each endpoint there, and is protected', async () => {
    const { vms, start } = await scriptedPair();
    const pair = await start();
    try {
      expect(pair.state).toBe('protected');
      expect(vms['vm-a'].calls.filter((c) => c.startsWith('agent app.start'))).toEqual([
        'agent app.start kvd with disk',
        'agent app.start cache',
      ]);
      expect(vms['vm-b'].calls.filter((c) => c.startsWith('agent'))).toEqual([]);
      expect(findArea(pair.table, appAreaName('kvd'))).toMatchObject({
        user: 'vm-a',
        pluggedBytes: 128 * MiB,
      });
      expect(pair.endpoints.get('kvd')?.currentTarget?.vm).toBe('vm-a');
      expect(await pingOnce(pair.endpointPort('kvd'), 2000)).toBe(true);
    } finally {
      await pair.stop();
    }
    expect(pair.state).toBe('stopped');
    expect(vms['vm-a'].calls.at(-1)).toBe('shutdown');
    expect(vms['vm-b'].calls.at(-1)).toBe('shutdown');
    expect(await pingOnce(pair.endpointPort('kvd'), 500)).toBe(false);
  });

  it('stops the VM that booted and closes the endpoints when the other fails to boot, and passes the failure on', async () => {
    const failure = new Error('vm-b: no hello within 60000 ms');
    const { vms, start } = await scriptedPair({ 'vm-b': failure });
    await expect(start()).rejects.toBe(failure);
    expect(vms['vm-a'].calls).toEqual(['shutdown']);
    expect(vms['vm-a'].vm.machine.isRunning).toBe(false);
  });

  it('leaves the VMs running when asked, and a later stop leaves them alone', async () => {
    const { vms, start } = await scriptedPair();
    const pair = await start();
    await pair.leaveRunning();
    await pair.stop();
    expect(pair.state).toBe('stopped');
    for (const fake of Object.values(vms)) {
      expect(fake.calls.at(-1)).toBe('detach');
      expect(fake.calls).not.toContain('shutdown');
      expect(fake.vm.machine.isRunning).toBe(true);
    }
  });

  it("refuses to grow an app's memory while a move of that app has not committed, and grants again after it", async () => {
    const { vms, start } = await scriptedPair();
    const pair = await start();
    try {
      let release: () => void = () => undefined;
      const started = new Promise<void>((resolve) => {
        release = resolve;
      });
      vms['vm-b'].onAppStart = async (name) => {
        await started;
        return { name, pid: 78 };
      };
      const move = pair.moveApp('kvd', { reason: 'operator request' });
      await expect.poll(() => vms['vm-b'].calls).toContain('agent app.start kvd with disk');
      expect(pair.state).toBe('failing-over');
      const refusal = await pair.grantMemory({ app: 'kvd', extraBytes: 2 * MiB }).catch((e: unknown) => e);
      expect(refusal).toMatchObject({ code: 'CONFLICT' });
      expect((refusal as Error).message).toContain(`operation ${pair.inFlightId} moves it now`);
      expect(findArea(pair.table, appAreaName('kvd'))?.sizeBytes).toBe(128 * MiB);
      release();
      expect((await move).result).toBe('succeeded');
      await expect(pair.grantMemory({ app: 'kvd', extraBytes: 2 * MiB })).resolves.toMatchObject({
        sizeBytes: 130 * MiB,
      });
    } finally {
      await pair.stop();
    }
  });
});
