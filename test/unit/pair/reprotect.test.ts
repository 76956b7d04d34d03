import { EventEmitter } from 'node:events';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { HangDetector } from '../../../src/detect/hang.js';
import type { PairConfig } from '../../../src/pair/config.js';
import { bootFreshStandby, Reprotection } from '../../../src/pair/reprotect.js';
import { bootPairVm, type PairVm } from '../../../src/pair/vm-factory.js';
import { type FakeVm, fakeVm, recordingLogger } from './fake-pair.js';

// The boot itself is QEMU's (integration tests): here it is scripted, one fake VM per boot.
vi.mock('../../../src/pair/vm-factory.js', () => ({ bootPairVm: vi.fn() }));
const boot = vi.mocked(bootPairVm);

const config = { apps: [] } as unknown as PairConfig;

/** Each boot waits for `release` (or fails with `failWith`), then resolves a fresh fake VM; `events` lists what happened in order. */
function scriptBoots(events: string[]) {
  const booted: FakeVm[] = [];
  const script = { failWith: undefined as Error | undefined, release: Promise.resolve() };
  boot.mockImplementation(async (_config, name, role) => {
    events.push(`boot ${name} as ${role}`);
    await script.release;
    if (script.failWith !== undefined) throw script.failWith;
    const fresh = fakeVm(name);
    booted.push(fresh);
    return fresh.vm;
  });
  return { booted, script };
}

function host(events: string[], options: { isStopped?: () => boolean } = {}) {
  const { log, lines } = recordingLogger();
  const vms = new Map<string, PairVm>();
  const detectors = new Map<string, HangDetector>();
  const actions = {
    isStopped: options.isStopped ?? (() => false),
    adoptStandby: (vm: PairVm) => events.push(`adopt ${vm.machine.spec.name}`),
    dropVm: (name: string) => {
      vms.delete(name);
      events.push(`drop ${name}`);
    },
    onBootSettled: () => events.push('settled'),
  };
  return { view: { config, accel: 'tcg' as const, log, vms, detectors }, actions, lines };
}

beforeEach(() => {
  boot.mockReset();
});

describe('bootFreshStandby', () => {
  it('boots the VM as a standby with the pair config and hands it to the pair', async () => {
    const events: string[] = [];
    scriptBoots(events);
    const { view, actions } = host(events);
    await bootFreshStandby({ ...view, ...actions }, 'vm-b');
    expect(events).toEqual(['boot vm-b as standby', 'adopt vm-b']);
    expect(boot.mock.calls[0]?.[0]).toBe(config);
    expect(boot.mock.calls[0]?.[3]).toMatchObject({ accel: 'tcg', log: view.log });
  });

  it('stops the fresh VM instead of adopting it when the pair was stopped during the boot', async () => {
    const events: string[] = [];
    const { booted } = scriptBoots(events);
    const { view, actions } = host(events, { isStopped: () => true });
    await bootFreshStandby({ ...view, ...actions }, 'vm-b');
    expect(events).toEqual(['boot vm-b as standby']);
    expect(booted[0]?.calls).toEqual(['shutdown']);
    expect(booted[0]?.vm.machine.isRunning).toBe(false);
  });

  it('logs a failed boot and leaves the pair unprotected without throwing', async () => {
    const events: string[] = [];
    const { script } = scriptBoots(events);
    script.failWith = new Error('QEMU exited with code 1');
    const { view, actions, lines } = host(events);
    await expect(bootFreshStandby({ ...view, ...actions }, 'vm-b')).resolves.toBeUndefined();
    expect(events).toEqual(['boot vm-b as standby']);
    expect(lines.find((l) => l.msg.startsWith('re-protection failed'))).toMatchObject({
      vm: 'vm-b',
      err: 'QEMU exited with code 1',
    });
  });
});

describe('Reprotection', () => {
  it('replaces a failed standby: its detector stopped, its QEMU stopped and dropped, then a fresh one booted', async () => {
    const events: string[] = [];
    scriptBoots(events);
    const { view, actions } = host(events);
    const failed = fakeVm('vm-b');
    view.vms.set('vm-b', failed.vm);
    const detector = Object.assign(new EventEmitter(), { stop: () => events.push('detector stopped') });
    view.detectors.set('vm-b', detector as unknown as HangDetector);
    const reprotection = new Reprotection(view, actions);
    reprotection.replace('vm-b');
    expect(reprotection.isBooting).toBe(true);
    await reprotection.settled();
    expect(events).toEqual([
      'detector stopped',
      'drop vm-b',
      'boot vm-b as standby',
      'adopt vm-b',
      'settled',
    ]);
    expect(failed.calls).toEqual(['shutdown 500 ms']);
    expect(reprotection.isBooting).toBe(false);
  });

  it('boots in place of a standby that is gone already, with nothing to stop or drop', async () => {
    const events: string[] = [];
    scriptBoots(events);
    const { view, actions } = host(events);
    const reprotection = new Reprotection(view, actions);
    reprotection.replace('vm-b');
    await reprotection.settled();
    expect(events).toEqual(['boot vm-b as standby', 'adopt vm-b', 'settled']);
  });

  it('is booting until a background boot settles, and reports it settled after a failed boot too', async () => {
    const events: string[] = [];
    const { script } = scriptBoots(events);
    let release: () => void = () => undefined;
    script.release = new Promise((resolve) => {
      release = resolve;
    });
    script.failWith = new Error('no hello within 60000 ms');
    const { view, actions } = host(events);
    const reprotection = new Reprotection(view, actions);
    expect(reprotection.isBooting).toBe(false);
    reprotection.bootInBackground('vm-b');
    await new Promise((resolve) => setImmediate(resolve));
    expect(reprotection.isBooting).toBe(true);
    expect(events).toEqual(['boot vm-b as standby']);
    release();
    await reprotection.settled();
    expect(reprotection.isBooting).toBe(false);
    expect(events).toEqual(['boot vm-b as standby', 'settled']);
  });

  it('stays booting while a second background boot runs after the first settled, and settled() waits for both', async () => {
    const events: string[] = [];
    const releases: Array<() => void> = [];
    boot.mockImplementation(async (_config, name) => {
      events.push(`boot ${name}`);
      await new Promise<void>((resolve) => releases.push(resolve));
      return fakeVm(name).vm;
    });
    const { view, actions } = host(events);
    const reprotection = new Reprotection(view, actions);
    reprotection.bootInBackground('vm-a');
    reprotection.bootInBackground('vm-b');
    await expect.poll(() => releases.length).toBe(2);
    releases[0]?.();
    await expect.poll(() => events).toContain('adopt vm-a');
    expect(reprotection.isBooting).toBe(true);
    const settled = reprotection.settled().then(() => events.push('all settled'));
    releases[1]?.();
    await settled;
    expect(reprotection.isBooting).toBe(false);
    expect(events.slice(-2)).toEqual(['settled', 'all settled']);
  });

  it('settled() resolves at once when no boot ever ran', async () => {
    const events: string[] = [];
    const { view, actions } = host(events);
    await new Reprotection(view, actions).settled();
    expect(events).toEqual([]);
    expect(boot).not.toHaveBeenCalled();
  });

  it('reprotect() boots in the foreground: no background state, no settled notice', async () => {
    const events: string[] = [];
    scriptBoots(events);
    const { view, actions } = host(events);
    const reprotection = new Reprotection(view, actions);
    const running = reprotection.reprotect('vm-a');
    expect(reprotection.isBooting).toBe(false);
    await running;
    expect(events).toEqual(['boot vm-a as standby', 'adopt vm-a']);
  });
});

describe('Reprotection when the failed standby cannot be stopped', () => {
  it('logs it, boots nothing in its place, and reports the boot settled (no unhandled rejection)', async () => {
    const events: string[] = [];
    scriptBoots(events);
    const { view, actions, lines } = host(events);
    const failed = fakeVm('vm-b');
    Object.assign(failed.vm.machine, {
      shutdown: async () => {
        throw new Error('rm /run/baton/vm-b: EBUSY');
      },
    });
    view.vms.set('vm-b', failed.vm);
    const reprotection = new Reprotection(view, actions);
    reprotection.replace('vm-b');
    await expect(reprotection.settled()).resolves.toBeUndefined();
    expect(events).toEqual(['settled']);
    expect(reprotection.isBooting).toBe(false);
    expect(lines.find((l) => l.msg.startsWith('re-protection failed'))).toMatchObject({
      vm: 'vm-b',
      err: 'rm /run/baton/vm-b: EBUSY',
    });
  });
});
