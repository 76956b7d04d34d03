// spawnQemu with a stand-in for QEMU: a script that prints who it runs as, its argv and what its inherited descriptors hold.
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lookUpUser } from '../../../src/vm/qemu-user.js';
import { INITRD_FD_PATH, KERNEL_FD_PATH, spawnQemu } from '../../../src/vm/spawn-qemu.js';
import { type MachineSpec, runPathsOf } from '../../../src/vm/spec.js';

const MiB = 1024 * 1024;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-spawn-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const FAKE_QEMU = `#!/bin/sh
echo "uid $(id -u)"
echo "args $*"
cat <&3
cat <&4
`;

/** A run directory under `parent`, a 0600 kernel and initrd only root may read, and the stand-in QEMU. */
function setUp(parentMode: number) {
  const parent = join(dir, 'runs');
  mkdirSync(parent);
  chmodSync(dir, 0o711);
  chmodSync(parent, parentMode);
  const runDir = join(parent, 'vm-a');
  mkdirSync(runDir, { mode: 0o700 });
  const binary = join(dir, 'fake-qemu');
  writeFileSync(binary, FAKE_QEMU, { mode: 0o755 });
  writeFileSync(join(dir, 'vmlinuz'), 'KERNEL\n', { mode: 0o600 });
  writeFileSync(join(dir, 'initrd'), 'INITRD\n', { mode: 0o600 });
  const spec: MachineSpec = {
    name: 'vm-a',
    role: 'active',
    accel: 'tcg',
    cpus: 1,
    baseMemoryBytes: 96 * MiB,
    maxMemoryBytes: 512 * MiB,
    slots: [],
    kernelPath: join(dir, 'vmlinuz'),
    initrdPath: join(dir, 'initrd'),
    heartbeatMs: 500,
    runDir,
    tcgTbSizeMiB: 16,
  };
  return { spec, binary, paths: runPathsOf(runDir) };
}

async function run(spawned: ReturnType<typeof spawnQemu>): Promise<number | null> {
  return new Promise((resolve) => spawned.child.once('exit', (code) => resolve(code)));
}

const openFds = () => readdirSync('/proc/self/fd').length;
const qemuUser = lookUpUser('baton-qemu');
const isRoot = process.getuid?.() === 0;

describe('spawning QEMU', () => {
  it.skipIf(!isRoot || qemuUser === undefined)(
    `as root, runs it as the QEMU user with the kernel and initrd as inherited descriptors it could not open itself${
      isRoot && qemuUser !== undefined ? '' : ' (skipped: needs root and the baton-qemu user, `make setup`)'
    }`,
    async () => {
      const { spec, binary, paths } = setUp(0o711);
      writeFileSync(paths.qemuLog, 'earlier run\n');
      const spawned = spawnQemu(binary, spec, paths);
      expect(spawned.user.user?.uid).toBe(qemuUser?.uid);
      expect(await run(spawned)).toBe(0);
      const log = readFileSync(paths.qemuLog, 'utf8');
      expect(log).toMatch(/^earlier run\nuid \d+\n/); // appended, never truncated
      expect(log).toContain(`uid ${qemuUser?.uid}\n`);
      expect(log).toContain('KERNEL\nINITRD\n');
      expect(statSync(spec.runDir).uid).toBe(qemuUser?.uid);
      expect(statSync(paths.qemuLog).uid).toBe(qemuUser?.uid);
      const kernelAt = spawned.argv.indexOf('-kernel');
      expect(spawned.argv[kernelAt + 1]).toBe(KERNEL_FD_PATH);
      expect(spawned.argv[spawned.argv.indexOf('-initrd') + 1]).toBe(INITRD_FD_PATH);
      expect(spawned.argv).not.toContain(spec.kernelPath);
    },
  );

  it.skipIf(!isRoot)(
    `keeps the daemon’s user when QEMU’s user could not reach the run directory${isRoot ? '' : ' (skipped: needs root)'}`,
    async () => {
      const { spec, binary, paths } = setUp(0o700);
      const spawned = spawnQemu(binary, spec, paths);
      expect(spawned.user).toMatchObject({ user: undefined });
      expect(spawned.user.reason).toContain('is not searchable by others');
      expect(await run(spawned)).toBe(0);
      expect(readFileSync(paths.qemuLog, 'utf8')).toMatch(/^uid 0\n/);
      expect(statSync(paths.qemuLog).mode & 0o777).toBe(0o600);
    },
  );

  it('throws for an initrd that is missing, starts nothing and closes the log and kernel it opened', () => {
    const { spec, binary, paths } = setUp(0o711);
    const before = openFds();
    expect(() => spawnQemu(binary, { ...spec, initrdPath: join(dir, 'gone') }, paths)).toThrow(/ENOENT/);
    expect(openFds()).toBe(before);
  });
});
