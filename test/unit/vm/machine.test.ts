import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError, MissingDependencyError } from '../../../src/errors.js';
import { createSilentLogger } from '../../../src/log.js';
import { exitWithin, Machine, resolveQemuBinary } from '../../../src/vm/machine.js';
import type { MachineSpec } from '../../../src/vm/spec.js';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'machine-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec: MachineSpec = {
  name: 'vm-x',
  role: 'standby',
  accel: 'tcg',
  cpus: 1,
  baseMemoryBytes: 96 * MiB,
  maxMemoryBytes: 1024 * MiB,
  slots: [],
  kernelPath: join(dir, 'no-vmlinuz'),
  initrdPath: join(dir, 'no-initramfs'),
  heartbeatMs: 500,
  runDir: dir,
  tcgTbSizeMiB: 16,
};
const log = createSilentLogger();

describe('Machine.launch input checks (before anything is started)', () => {
  it('names a missing QEMU binary and the package that provides it', () => {
    expect(() => resolveQemuBinary('/nonexistent/qemu-system-x86_64')).toThrow(MissingDependencyError);
    expect(() => resolveQemuBinary('/nonexistent/qemu-system-x86_64')).toThrow(
      'QEMU (/nonexistent/qemu-system-x86_64) is missing: install it with `apt-get install qemu-system-x86` or run `make setup`',
    );
  });

  it('names a missing guest kernel and how to build it', async () => {
    const error = await Machine.launch(spec, { log, qemuBinary: process.execPath }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as Error).message).toBe(
      `The guest kernel ${spec.kernelPath} is missing: build the guest image with \`make images\``,
    );
  });

  it('refuses a run directory whose socket paths would be too long', async () => {
    const long = {
      ...spec,
      kernelPath: process.execPath,
      initrdPath: process.execPath,
      runDir: `/tmp/${'x'.repeat(120)}`,
    };
    const error = await Machine.launch(long, { log, qemuBinary: process.execPath }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(
      /^Run directory path too long for unix sockets \(max 107 bytes\)/,
    );
  });
});

describe('exitWithin', () => {
  it('gives the exit status and leaves no timer behind to keep the process alive', async () => {
    const status = { code: 0, signal: null };
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(await exitWithin(Promise.resolve(status), 60_000)).toBe(status);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
  });

  it('gives undefined when the exit does not come in time', async () => {
    expect(await exitWithin(new Promise(() => undefined), 20)).toBeUndefined();
  });
});
