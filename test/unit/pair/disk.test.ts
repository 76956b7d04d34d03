import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MissingDependencyError, QmpCommandError } from '../../../src/errors.js';
import { attachDataDisk, ensureDataDisk } from '../../../src/pair/disk.js';
import { MiB } from '../../../src/units.js';
import type { Machine } from '../../../src/vm/machine.js';
import { decideQemuUser } from '../../../src/vm/qemu-user.js';
import { fakeVm } from './fake-pair.js';

const dir = mkdtempSync(join(tmpdir(), 'baton-disk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `length` bytes of the file at `offset`. */
function readAt(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const bytes = Buffer.alloc(length);
    readSync(fd, bytes, 0, length, offset);
    return bytes;
  } finally {
    closeSync(fd);
  }
}

// The ext4 superblock starts 1024 bytes in: its magic at +56, its volume label at +120 (16 bytes).
const magicOf = (path: string) => readAt(path, 1024 + 56, 2).readUInt16LE(0);
const labelOf = (path: string) =>
  readAt(path, 1024 + 120, 16)
    .toString('utf8')
    .replace(/\0+$/, '');

describe('ensureDataDisk', () => {
  it('creates a sparse raw ext4 image of the size asked, labelled with the app, private to QEMU', async () => {
    const path = join(dir, 'disks', 'kvd.img');
    const disk = await ensureDataDisk('kvd', path, 16 * MiB);
    expect(disk).toEqual({ app: 'kvd', path, serial: 'baton-kvd' });
    const stats = statSync(path);
    expect(stats.size).toBe(16 * MiB);
    expect(stats.blocks * 512).toBeLessThan(16 * MiB);
    expect(stats.mode & 0o777).toBe(0o600);
    expect(stats.uid).toBe(decideQemuUser(undefined).user?.uid ?? process.getuid?.());
    expect(statSync(join(dir, 'disks')).mode & 0o777).toBe(0o711);
    expect(magicOf(path)).toBe(0xef53);
    expect(labelOf(path)).toBe('kvd');
  });

  it('keeps an image that exists, with its data, whatever size is asked now', async () => {
    const path = join(dir, 'kept', 'kvd.img');
    await ensureDataDisk('kvd', path, 8 * MiB);
    const fd = openSync(path, 'r+');
    writeFileSync(fd, 'x'); // Writes at offset 0, before the superblock.
    closeSync(fd);
    await ensureDataDisk('kvd', path, 32 * MiB);
    expect(statSync(path).size).toBe(8 * MiB);
    expect(readAt(path, 0, 1).toString()).toBe('x');
    expect(magicOf(path)).toBe(0xef53);
  });

  it('cuts the serial to the 20 bytes a virtio disk shows and the label to the 16 ext4 keeps', async () => {
    const name = 'a-rather-long-app-name-indeed';
    const disk = await ensureDataDisk(name, join(dir, 'long', 'x.img'), 8 * MiB);
    expect(disk.serial).toBe('baton-a-rather-long-');
    expect(labelOf(disk.path)).toBe('a-rather-long-ap');
  });

  it('says how to get mkfs.ext4 when it is missing', async () => {
    const path = process.env.PATH;
    process.env.PATH = join(dir, 'no-tools-here');
    try {
      const error = await ensureDataDisk('kvd', join(dir, 'nomkfs', 'kvd.img'), 8 * MiB).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MissingDependencyError);
      expect(error).toMatchObject({ code: 'MISSING_DEPENDENCY', what: 'mkfs.ext4' });
      expect((error as Error).message).toContain('apt-get install e2fsprogs');
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('attachDataDisk', () => {
  /** A fake VM that records each QMP command with its arguments. */
  function recordingVm() {
    const fake = fakeVm('vm-b');
    const sent: Array<{ command: string; args: Record<string, unknown> | undefined }> = [];
    const answer = fake.onQmp;
    fake.onQmp = (command, args) => {
      sent.push({ command, args });
      return answer(command, args);
    };
    return { fake, sent, machine: fake.vm.machine as unknown as Machine };
  }
  const disk = { app: 'kvd', path: '/state/disks/kvd.img', serial: 'baton-kvd' };

  it('adds the raw file node, then the virtio disk with its serial on the spare root port asked', async () => {
    const { sent, machine } = recordingVm();
    await attachDataDisk(machine, disk, 1);
    expect(sent).toEqual([
      {
        command: 'blockdev-add',
        args: {
          driver: 'raw',
          'node-name': 'disk-kvd',
          file: { driver: 'file', filename: '/state/disks/kvd.img', 'node-name': 'disk-kvd-file' },
        },
      },
      {
        command: 'device_add',
        args: expect.objectContaining({
          id: 'blk-kvd',
          drive: 'disk-kvd',
          serial: 'baton-kvd',
          bus: 'rp-spare1',
        }),
      },
    ]);
  });

  it('uses the first spare port by default', async () => {
    const { fake, machine } = recordingVm();
    await attachDataDisk(machine, disk);
    expect(fake.calls).toEqual([
      'qmp blockdev-add node-name=disk-kvd',
      'qmp device_add id=blk-kvd bus=rp-spare0',
    ]);
  });

  it('adds no device when QEMU refuses the image (another VM holds its lock)', async () => {
    const { fake, machine } = recordingVm();
    const locked = new QmpCommandError({
      command: 'blockdev-add',
      errorClass: 'GenericError',
      desc: 'Failed to get "write" lock',
      vm: 'vm-b',
    });
    const answer = fake.onQmp;
    fake.onQmp = (command, args) => {
      if (command === 'blockdev-add') throw locked;
      return answer(command, args);
    };
    await expect(attachDataDisk(machine, disk)).rejects.toBe(locked);
    expect(fake.calls).toEqual(['qmp blockdev-add node-name=disk-kvd']);
  });
});
