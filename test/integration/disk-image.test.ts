import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { KvClient } from '../../src/endpoint/kv-client.js';
import { defaultPairConfig, type PairConfig } from '../../src/pair/config.js';
import { bootPairVm } from '../../src/pair/vm-factory.js';
import { defaultImagePaths, PACKAGE_ROOT } from '../../src/paths.js';
import { rootOverlayPaths } from '../../src/vm/root-overlay.js';
import { ROOT_DISK_SERIAL } from '../../src/vm/spec.js';
import { qemuPidsUnder } from '../helpers/audit.js';
import { hostAccel, test } from '../helpers/vm-fixture.js';

// Short paths: the VMs' unix sockets live under <stateDir>/run/.
const scratch = mkdtempSync('/tmp/bti-');
let isKept = false;
afterAll(() => {
  if (isKept) console.log(`[integration] kept ${scratch} (QEMU logs and serial consoles under state/run/)`);
  else rmSync(scratch, { recursive: true, force: true });
});

/** A 32 MiB ext4 disk (label root, one file) as qcow2, the built-in kernel and initramfs and a boot.json beside it. */
async function buildTinyImage(dir: string): Promise<string> {
  mkdirSync(join(dir, 'tree'), { recursive: true });
  writeFileSync(join(dir, 'tree', 'hello.txt'), 'from the base image\n');
  await execa('mkfs.ext4', ['-q', '-F', '-L', 'root', '-d', join(dir, 'tree'), join(dir, 'base.raw'), '32M']);
  await execa('qemu-img', [
    'convert',
    '-f',
    'raw',
    '-O',
    'qcow2',
    join(dir, 'base.raw'),
    join(dir, 'base.qcow2'),
  ]);
  rmSync(join(dir, 'base.raw'));
  const builtin = defaultImagePaths();
  copyFileSync(builtin.kernelPath, join(dir, 'vmlinuz'));
  copyFileSync(builtin.initrdPath, join(dir, 'initramfs.cpio.gz'));
  writeFileSync(
    join(dir, 'boot.json'),
    JSON.stringify({
      format: 'qcow2',
      disk: 'base.qcow2',
      kernel: 'vmlinuz',
      initrd: 'initramfs.cpio.gz',
      cmdline: '',
    }),
  );
  return join(dir, 'base.qcow2');
}

/** Waits until kvd answers PING through `port`, on a fresh connection each try (a forward accepts before kvd listens). */
async function waitForPong(port: number): Promise<void> {
  const ping = async () => {
    const client = await KvClient.connect(port, 2_000).catch(() => undefined);
    if (client === undefined) return undefined;
    const reply = await client.request('PING', 2_000).catch(() => undefined);
    client.close();
    return reply;
  };
  await expect.poll(ping, { timeout: 30_000, interval: 250 }).toBe('PONG');
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('a VM booted from a disk image', () => {
  test('boots its kernel from boot.json with its own overlay; guest writes land in the overlay, which a second boot keeps', async ({
    vms,
    onTestFailed,
  }) => {
    onTestFailed(() => {
      isKept = true;
    });
    const diskPath = await buildTinyImage(join(scratch, 'image'));
    const baseHashBefore = sha256(diskPath);
    const stateDir = join(scratch, 'state');
    const config: PairConfig = {
      ...defaultPairConfig(stateDir),
      image: { kind: 'disk', diskPath, isFirmwareBoot: false },
    };
    const { accel } = await hostAccel();
    const { overlayPath } = rootOverlayPaths(stateDir, 'vm-a');

    const first = await bootPairVm(config, 'vm-a', 'standby', { accel, log: vms.log });
    vms.track(first.machine);
    console.log(
      `[integration] ${accel} boot to hello with a qcow2 root disk: ${Math.round(first.bootMs)} ms`,
    );
    expect(first.machine.spec.rootDisk).toEqual({ overlayPath, basePath: diskPath, baseFormat: 'qcow2' });
    // The agent's own view of the kernel it runs on: the cloud kernel, with virtio-mem.
    expect(first.hello.kernelRelease).toMatch(/^\d+\.\d+\.\d+-.*cloud-amd64$/);
    expect(first.hello.virtioMem).toBe(true);
    expect(statSync(overlayPath).mode & 0o777).toBe(0o600);
    const overlayInode = statSync(overlayPath).ino;

    // The guest sees the root disk by its serial: the agent mounts it and kvd keeps its log there.
    const disk = { serial: ROOT_DISK_SERIAL, mountPoint: '/data/root' };
    const argv = ['/apps/kvd', '--port', '7000', '--data', '/data/root'];
    await first.machine.agent.appStart({ name: 'kvd', argv, disk }, 10_000);
    const port = first.forwards.get('kvd') ?? 0;
    await waitForPong(port);
    const client = await KvClient.connect(port);
    expect(await client.request('SET written-in-vm-a 42')).toBe('OK');
    client.close();
    await first.machine.agent.appStop('kvd', 10_000);
    await first.machine.shutdown();

    // The base was only read; the overlay holds the guest's writes and is reused by the next boot.
    expect(sha256(diskPath)).toBe(baseHashBefore);
    const second = await bootPairVm(config, 'vm-a', 'standby', { accel, log: vms.log });
    vms.track(second.machine);
    expect(statSync(overlayPath).ino).toBe(overlayInode);
    await second.machine.agent.appStart({ name: 'kvd', argv, disk }, 10_000);
    await waitForPong(second.forwards.get('kvd') ?? 0);
    const again = await KvClient.connect(second.forwards.get('kvd') ?? 0);
    expect(await again.request('GET written-in-vm-a')).toBe('VALUE 42');
    again.close();
    await second.machine.shutdown();
    expect(sha256(diskPath)).toBe(baseHashBefore);
    expect(qemuPidsUnder(stateDir)).toEqual([]);
  });
});

describe('a firmware boot of a disk with no bootloader and no agent', () => {
  test('starts QEMU with the disk first and fails at the hello deadline naming the serial console and baton-agent', async ({
    vms,
  }) => {
    const { accel } = await hostAccel();
    const dir = join(scratch, 'firmware');
    mkdirSync(dir, { recursive: true });
    const diskPath = join(dir, 'plain.raw');
    await execa('mkfs.ext4', ['-q', '-F', '-L', 'root', diskPath, '16M']);
    const stateDir = join(scratch, 'firmware-state');
    const config: PairConfig = {
      ...defaultPairConfig(stateDir),
      helloTimeoutMs: 5_000,
      image: { kind: 'disk', diskPath, isFirmwareBoot: true },
    };
    const error = await bootPairVm(config, 'vm-a', 'standby', { accel, log: vms.log }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(
      /^Timed out after 5000 ms waiting for hello from the guest agent on vm-a; see the serial console at \/.+\/serial\.log; a guest image needs the guest agent: install the baton-agent package in it/,
    );
    // QEMU was stopped; the run directory (with its QEMU log) is kept for reading.
    expect(qemuPidsUnder(stateDir)).toEqual([]);
    expect(readFileSync(rootOverlayPaths(stateDir, 'vm-a').recordPath, 'utf8')).toContain('"format":"raw"');
  });
});

describe('baton up with an image it cannot boot', () => {
  const dir = join(scratch, 'bad');
  const stateDir = join(scratch, 'bad-state');

  /** `baton up` with `vms.image` set to `image` (YAML flow), in a config file inside `dir`. */
  async function upWith(image: string) {
    mkdirSync(dir, { recursive: true });
    const configPath = join(dir, 'baton.yaml');
    writeFileSync(
      configPath,
      [
        'budget: 736MiB',
        `vms: { image: ${image} }`,
        'apps:',
        '  - { name: kvd, argv: [/apps/kvd, --port, "7000"], memory: 128MiB, port: 7000 }',
        '',
      ].join('\n'),
    );
    const result = await execa(
      'node',
      [join(PACKAGE_ROOT, 'bin', 'baton.js'), '--state-dir', stateDir, 'up', '--config', configPath],
      { reject: false, timeout: 60_000, env: { BATON_LOG_LEVEL: 'warn' } },
    );
    expect(qemuPidsUnder(stateDir)).toEqual([]);
    return { exitCode: result.exitCode, stderr: result.stderr.split('\n').filter((line) => line !== '') };
  }

  it('refuses an image that does not exist with exit code 3, starting no QEMU', async () => {
    expect(await upWith('{ disk: nope.qcow2 }')).toEqual({
      exitCode: 3,
      stderr: [
        `baton: The disk image ${join(dir, 'nope.qcow2')} (vms.image.disk) is missing: build it (\`make images\`) or fix the path`,
      ],
    });
  });

  it('refuses a text file with exit code 2', async () => {
    writeFileSync(join(dir, 'notes.txt'), 'not a disk\n');
    expect(await upWith('{ disk: notes.txt }')).toEqual({
      exitCode: 2,
      stderr: [
        `baton: Cannot boot ${join(dir, 'notes.txt')}: not a qcow2 or raw disk image: its size, 11 bytes, is not a whole number of 512-byte sectors`,
      ],
    });
  });

  it('refuses a qcow2 with no kernel to boot with exit code 2', async () => {
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'empty.qcow2'), '64M']);
    expect(await upWith('{ disk: empty.qcow2 }')).toEqual({
      exitCode: 2,
      stderr: [
        `baton: Cannot boot ${join(dir, 'empty.qcow2')}: no kernel to boot: vms.image.kernel is not set, there is no boot.json beside the image, and vms.image.firmware is false`,
      ],
    });
  });
});
