import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StableEndpoint } from '../../../src/endpoint/proxy.js';
import { AgentError } from '../../../src/errors.js';
import { bootBoth, openAppParts, startEveryApp } from '../../../src/pair/bring-up.js';
import type { AppConfig, PairConfig } from '../../../src/pair/config.js';
import { findFreePort } from '../../../src/pair/ports.js';
import { createSupervision } from '../../../src/pair/supervise.js';
import { bootPairVm, type PairVm } from '../../../src/pair/vm-factory.js';
import { MiB } from '../../../src/units.js';
import { fakePair, fakeVm, recordingLogger } from './fake-pair.js';

// The boots themselves are QEMU's (integration tests): here each is scripted.
vi.mock('../../../src/pair/vm-factory.js', () => ({ bootPairVm: vi.fn() }));
const boot = vi.mocked(bootPairVm);
beforeEach(() => {
  boot.mockReset();
});

const stateDir = mkdtempSync(join(tmpdir(), 'baton-bring-up-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
const opened: StableEndpoint[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((e) => e.close()));
});

describe('openAppParts', () => {
  it("creates each app's data disk under the state directory and opens its endpoint, held, on its previous port", async () => {
    const { pair } = await fakePair();
    const [kvd, cron] = pair.config.apps as [AppConfig, AppConfig];
    const config = {
      ...pair.config,
      stateDir,
      apps: [
        { ...kvd, diskBytes: 8 * MiB },
        { ...cron, endpointPort: await findFreePort() },
      ],
    } as PairConfig;
    const previous = await findFreePort();
    const parts = await openAppParts(config, recordingLogger().log, { kvd: previous });
    opened.push(...parts.map((p) => p.endpoint));
    expect(parts.map((p) => p.app)).toEqual(['kvd', 'cron']);
    expect(parts[0]?.disk).toEqual({
      app: 'kvd',
      path: join(stateDir, 'disks', 'kvd.img'),
      serial: 'baton-kvd',
    });
    expect(statSync(join(stateDir, 'disks', 'kvd.img')).size).toBe(8 * MiB);
    expect(parts[1]?.disk).toBeUndefined();
    expect(parts[0]?.endpoint.port).toBe(previous);
    expect(parts[1]?.endpoint.port).toBe(config.apps[1]?.endpointPort);
    expect(parts.map((p) => p.endpoint.currentTarget)).toEqual([undefined, undefined]);
  });
});

describe('bootBoth', () => {
  const roles = { active: 'vm-a', standby: 'vm-b' };
  const config = {} as PairConfig;

  /** Boots that resolve a fake VM, or fail with the error given for that VM. */
  function scriptBoots(failures: Record<string, Error>): void {
    boot.mockImplementation(async (_config, name) => {
      const failure = failures[name];
      if (failure !== undefined) throw failure;
      return fakeVm(name).vm;
    });
  }

  it('boots the active and the standby in their roles and adopts both', async () => {
    scriptBoots({});
    const adopted: string[] = [];
    const options = { accel: 'tcg' as const, log: recordingLogger().log };
    await bootBoth(config, roles, options, (vm: PairVm) => adopted.push(vm.machine.spec.name));
    expect(boot.mock.calls.map(([c, name, role, o]) => [c, name, role, o])).toEqual([
      [config, 'vm-a', 'active', options],
      [config, 'vm-b', 'standby', options],
    ]);
    expect(adopted).toEqual(['vm-a', 'vm-b']);
  });

  it('adopts the VM that booted (so it is stopped with the pair) before it throws the failure', async () => {
    const failure = new Error('vm-b: no hello within 60000 ms');
    scriptBoots({ 'vm-b': failure });
    const adopted: string[] = [];
    await expect(
      bootBoth(config, roles, { accel: 'tcg', log: recordingLogger().log }, (vm) =>
        adopted.push(vm.machine.spec.name),
      ),
    ).rejects.toBe(failure);
    expect(adopted).toEqual(['vm-a']);
  });

  it("throws the active's failure first when both fail, adopting none", async () => {
    const first = new Error('vm-a: QEMU exited with code 1');
    scriptBoots({ 'vm-a': first, 'vm-b': new Error('vm-b: QEMU exited with code 1') });
    const adopted: string[] = [];
    await expect(
      bootBoth(config, roles, { accel: 'tcg', log: recordingLogger().log }, (vm) =>
        adopted.push(vm.machine.spec.name),
      ),
    ).rejects.toBe(first);
    expect(adopted).toEqual([]);
  });
});

describe('startEveryApp', () => {
  async function pairToStart() {
    const { pair } = await fakePair();
    const { log, lines } = recordingLogger();
    return {
      pair: { config: pair.config as PairConfig, supervision: createSupervision(), log, roles: pair.roles },
      lines,
    };
  }

  it('starts every app on the active in config order, saying so', async () => {
    const { pair } = await pairToStart();
    const started: string[] = [];
    const progress: string[] = [];
    await startEveryApp(
      pair,
      async (app) => void started.push(app),
      (line) => progress.push(line),
    );
    expect(started).toEqual(['kvd', 'cron']);
    expect(progress).toEqual(['starting kvd on vm-a ...', 'starting cron on vm-a ...']);
  });

  it('leaves an app its configuration keeps from starting waiting, with the reason, and starts the next', async () => {
    const { pair, lines } = await pairToStart();
    const started: string[] = [];
    const progress: string[] = [];
    await startEveryApp(
      pair,
      async (app) => {
        if (app === 'kvd')
          throw new AgentError({
            vm: 'vm-a',
            agentCode: 'mount-failed',
            message: 'mount /data/kvd: bad superblock',
          });
        started.push(app);
      },
      (line) => progress.push(line),
    );
    expect(started).toEqual(['cron']);
    expect(progress).toContain('kvd did not start: mount /data/kvd: bad superblock');
    expect(pair.supervision.startFailures.get('kvd')).toEqual({
      vm: 'vm-a',
      code: 'mount-failed',
      message: 'mount /data/kvd: bad superblock',
    });
    expect(lines.some((l) => l.app === 'kvd' && l.code === 'mount-failed')).toBe(true);
  });

  it('stops at a failure that is not the configuration and passes it on', async () => {
    const { pair } = await pairToStart();
    const lost = new AgentError({ vm: 'vm-a', agentCode: 'disconnected', message: 'agent gone' });
    const started: string[] = [];
    await expect(
      startEveryApp(
        pair,
        async (app) => {
          started.push(app);
          throw lost;
        },
        () => undefined,
      ),
    ).rejects.toBe(lost);
    expect(started).toEqual(['kvd']);
    expect(pair.supervision.startFailures.size).toBe(0);
  });
});
