import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VmImageSettings } from '../../../src/config/types.js';
import { ImageError, MissingDependencyError } from '../../../src/errors.js';
import { resolveBootImage } from '../../../src/vm/image.js';
import { fakeQemuImg } from './fake-qemu-img.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-image-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const QCOW2 = { format: 'qcow2', 'virtual-size': 1 << 30, 'format-specific': { type: 'qcow2', data: {} } };

function disk(extra: Partial<Extract<VmImageSettings, { kind: 'disk' }>> = {}): VmImageSettings {
  return { kind: 'disk', diskPath: join(dir, 'base.qcow2'), isFirmwareBoot: false, ...extra };
}

function writeImage(bootJson?: Record<string, unknown>): void {
  writeFileSync(join(dir, 'base.qcow2'), 'QFI\xfb');
  writeFileSync(join(dir, 'vmlinuz'), 'kernel');
  writeFileSync(join(dir, 'initrd.img'), 'initrd');
  if (bootJson !== undefined) writeFileSync(join(dir, 'boot.json'), JSON.stringify(bootJson));
}

const BOOT_JSON = {
  format: 'qcow2',
  disk: 'base.qcow2',
  kernel: 'vmlinuz',
  initrd: 'initrd.img',
  cmdline: 'root=LABEL=root ro',
};

describe('resolveBootImage', () => {
  it('reads kernel, initrd and cmdline from boot.json beside the disk, asking qemu-img without following backing files', async () => {
    writeImage(BOOT_JSON);
    const run = fakeQemuImg(QCOW2);
    const image = await resolveBootImage(disk(), run);
    expect(image).toMatchObject({
      kind: 'disk',
      base: { path: join(dir, 'base.qcow2'), format: 'qcow2', sizeBytes: 5 },
      boot: {
        kernelPath: join(dir, 'vmlinuz'),
        initrdPath: join(dir, 'initrd.img'),
        cmdline: 'root=LABEL=root ro',
      },
    });
    expect(run.calls).toEqual([
      ['qemu-img', 'info', '--force-share', '--output=json', join(dir, 'base.qcow2')],
    ]);
  });

  it('lets the config override the cmdline, and a configured kernel replace boot.json entirely', async () => {
    writeImage(BOOT_JSON);
    const withCmdline = await resolveBootImage(disk({ cmdline: 'root=/dev/vda ro' }), fakeQemuImg(QCOW2));
    expect(withCmdline.boot).toMatchObject({
      cmdline: 'root=/dev/vda ro',
      initrdPath: join(dir, 'initrd.img'),
    });
    const own = await resolveBootImage(disk({ kernelPath: join(dir, 'vmlinuz') }), fakeQemuImg(QCOW2));
    expect(own.boot).toEqual({ kernelPath: join(dir, 'vmlinuz'), cmdline: '' });
  });

  it('boots through the firmware without any kernel or boot.json', async () => {
    writeImage();
    const image = await resolveBootImage(disk({ isFirmwareBoot: true }), fakeQemuImg(QCOW2));
    expect(image).toMatchObject({ kind: 'disk', boot: 'firmware' });
  });

  it('says an image that does not exist is missing (exit code 3)', async () => {
    const error = await resolveBootImage(disk(), fakeQemuImg(QCOW2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as Error).message).toBe(
      `The disk image ${join(dir, 'base.qcow2')} (vms.image.disk) is missing: build it (\`make images\`) or fix the path`,
    );
  });

  it("refuses a FIFO in the disk image's place before asking qemu-img (which would block on it)", async () => {
    execFileSync('mkfifo', [join(dir, 'base.qcow2')]);
    const qemuImg = fakeQemuImg(QCOW2);
    const error = await resolveBootImage(disk(), qemuImg).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageError);
    expect((error as Error).message).toContain('not a disk image: neither a regular file nor a block device');
    expect(qemuImg.calls).toEqual([]);
  });

  it('refuses a qcow2 with no kernel to boot', async () => {
    writeImage();
    await expect(resolveBootImage(disk(), fakeQemuImg(QCOW2))).rejects.toThrow(
      new ImageError(
        join(dir, 'base.qcow2'),
        'no kernel to boot: vms.image.kernel is not set, there is no boot.json beside the image, and vms.image.firmware is false',
      ),
    );
  });

  it('names the kernel boot.json points at when it is missing', async () => {
    writeImage({ ...BOOT_JSON, kernel: 'vmlinuz-gone' });
    await expect(resolveBootImage(disk(), fakeQemuImg(QCOW2))).rejects.toThrow(
      `The kernel ${join(dir, 'vmlinuz-gone')} (named by boot.json) is missing: fix the path or rebuild the image`,
    );
  });

  it.each([
    [
      { format: 'vmdk', 'virtual-size': 1 },
      'a vmdk image; baton boots qcow2 or raw images (convert it with qemu-img convert -O qcow2)',
    ],
    [
      { ...QCOW2, 'backing-filename': '/etc/shadow' },
      'it has a backing file of its own (/etc/shadow); flatten it with qemu-img convert -O qcow2',
    ],
    [
      { ...QCOW2, 'format-specific': { type: 'qcow2', data: { 'data-file': '/dev/sda' } } },
      'it keeps its data in an external file (/dev/sda); flatten it with qemu-img convert -O qcow2',
    ],
    ['not json at all', 'qemu-img info printed something that is not JSON'],
    [{ format: 'qcow2', 'virtual-size': -1 }, 'qemu-img info: unexpected virtual-size'],
    [{ format: 'x'.repeat(100), 'virtual-size': 1 }, 'qemu-img info: unexpected format'],
  ])('refuses qemu-img info %o', async (info, detail) => {
    writeImage(BOOT_JSON);
    await expect(resolveBootImage(disk(), fakeQemuImg(info))).rejects.toThrow(
      new ImageError(join(dir, 'base.qcow2'), detail),
    );
  });

  it('refuses a text file that qemu-img probes as raw, and accepts a raw ext4 disk', async () => {
    const raw = { format: 'raw', 'virtual-size': 13 };
    writeFileSync(join(dir, 'notes.txt'), 'hello, world\n');
    await expect(
      resolveBootImage(disk({ diskPath: join(dir, 'notes.txt'), isFirmwareBoot: true }), fakeQemuImg(raw)),
    ).rejects.toThrow(
      new ImageError(
        join(dir, 'notes.txt'),
        'not a qcow2 or raw disk image: its size, 13 bytes, is not a whole number of 512-byte sectors',
      ),
    );
    const blank = Buffer.alloc(4096);
    writeFileSync(join(dir, 'blank.raw'), blank);
    await expect(
      resolveBootImage(disk({ diskPath: join(dir, 'blank.raw'), isFirmwareBoot: true }), fakeQemuImg(raw)),
    ).rejects.toThrow('raw data with no partition table and no ext4, XFS or Btrfs filesystem');
    blank.writeUInt16LE(0xef53, 1080);
    writeFileSync(join(dir, 'ext4.raw'), blank);
    const image = await resolveBootImage(
      disk({ diskPath: join(dir, 'ext4.raw'), isFirmwareBoot: true }),
      fakeQemuImg(raw),
    );
    expect(image).toMatchObject({ kind: 'disk', base: { format: 'raw', sizeBytes: 4096 } });
  });

  it.each([
    ['{', `${'boot.json'}: not JSON`],
    [JSON.stringify({ ...BOOT_JSON, kernel: '../../etc/shadow' }), 'kernel: a file name in the same folder'],
    [JSON.stringify({ ...BOOT_JSON, kernel: '/boot/vmlinuz' }), 'kernel: a file name in the same folder'],
    [
      JSON.stringify({ ...BOOT_JSON, format: 'vmdk' }),
      'format: Invalid option: expected one of "qcow2"|"raw"',
    ],
    [JSON.stringify({ ...BOOT_JSON, cmdline: 'a\nb' }), 'cmdline: printable ASCII on one line'],
    [JSON.stringify({ ...BOOT_JSON, disk: 'other.qcow2' }), 'it describes other.qcow2, not base.qcow2'],
    [JSON.stringify({ ...BOOT_JSON, format: 'raw' }), 'it says format raw, qemu-img finds qcow2'],
  ])('refuses boot.json %s', async (text, detail) => {
    writeImage();
    writeFileSync(join(dir, 'boot.json'), text);
    const error = await resolveBootImage(disk(), fakeQemuImg(QCOW2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageError);
    expect((error as Error).message).toBe(
      `Cannot boot ${join(dir, 'boot.json')}: ${detail.replace('boot.json: ', '')}`,
    );
  });

  it('refuses a boot.json kernel that is a symlink out of the image folder', async () => {
    writeImage();
    mkdirSync(join(dir, 'img'));
    writeFileSync(join(dir, 'img', 'base.qcow2'), 'QFI\xfb');
    symlinkSync('/etc/passwd', join(dir, 'img', 'vmlinuz'));
    writeFileSync(
      join(dir, 'img', 'boot.json'),
      JSON.stringify({ format: 'qcow2', disk: 'base.qcow2', kernel: 'vmlinuz' }),
    );
    await expect(
      resolveBootImage(disk({ diskPath: join(dir, 'img', 'base.qcow2') }), fakeQemuImg(QCOW2)),
    ).rejects.toThrow(
      `Cannot boot ${join(dir, 'img', 'boot.json')}: vmlinuz leads out of ${join(dir, 'img')} (to /etc/passwd)`,
    );
  });
});
