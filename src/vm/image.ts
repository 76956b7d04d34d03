// What the VMs boot, checked before anything starts: the built-in image, or a disk image with its kernel or firmware.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { VmImageSettings } from '../config/types.js';
import { ImageError, MissingDependencyError } from '../errors.js';
import { defaultImagePaths } from '../paths.js';
import { readBootJson } from './boot-json.js';
import { sniffRawDisk } from './disk-signature.js';
import { type DiskFormat, type RunCommand, readImageInfo, runCommand } from './qemu-img.js';

/** The base image both VMs' overlays sit on; size and mtime tell a rebuilt base from the one an overlay was made on. */
export interface BaseDisk {
  path: string;
  format: DiskFormat;
  sizeBytes: number;
  mtimeMs: number;
}

/** Direct kernel boot: the kernel (and initrd) QEMU loads, and the image's own kernel arguments. */
export interface KernelBoot {
  kernelPath: string;
  initrdPath?: string;
  cmdline: string;
}

export type BootImage =
  | { kind: 'builtin'; boot: KernelBoot }
  | { kind: 'disk'; base: BaseDisk; boot: KernelBoot | 'firmware' };

const FROM = {
  disk: 'vms.image.disk',
  kernel: 'vms.image.kernel',
  initrd: 'vms.image.initrd',
} as const;

/**
 * Checks what `settings` names and returns what to boot. Throws, with one line naming the file:
 * MissingDependencyError when a file is not there (exit code 3), ImageError when it is there but
 * cannot be booted: not qcow2 or raw, a bad boot.json, no kernel to boot (exit code 2).
 */
export async function resolveBootImage(
  settings: VmImageSettings | undefined,
  run: RunCommand = runCommand,
): Promise<BootImage> {
  if (settings === undefined || settings.kind === 'builtin') {
    const image = defaultImagePaths();
    await mustExist(
      `The guest kernel ${image.kernelPath}`,
      image.kernelPath,
      'build the guest image with `make images`',
    );
    await mustExist(
      `The guest initramfs ${image.initrdPath}`,
      image.initrdPath,
      'build the guest image with `make images`',
    );
    return {
      kind: 'builtin',
      boot: { kernelPath: image.kernelPath, initrdPath: image.initrdPath, cmdline: '' },
    };
  }
  const diskPath = settings.diskPath;
  await mustExist(
    `The disk image ${diskPath} (${FROM.disk})`,
    diskPath,
    'build it (`make images`) or fix the path',
  );
  const base = await inspectBase(diskPath, run);
  if (settings.isFirmwareBoot) return { kind: 'disk', base, boot: 'firmware' };
  const bootJson = settings.kernelPath === undefined ? await readBootJson(diskPath) : undefined;
  if (settings.kernelPath === undefined && bootJson === undefined) {
    throw new ImageError(
      diskPath,
      `no kernel to boot: ${FROM.kernel} is not set, there is no boot.json beside the image, and vms.image.firmware is false`,
    );
  }
  if (bootJson !== undefined) {
    if (basename(bootJson.diskPath) !== basename(diskPath))
      throw new ImageError(
        bootJson.path,
        `it describes ${basename(bootJson.diskPath)}, not ${basename(diskPath)}`,
      );
    if (bootJson.format !== base.format)
      throw new ImageError(bootJson.path, `it says format ${bootJson.format}, qemu-img finds ${base.format}`);
  }
  const kernelPath = settings.kernelPath ?? bootJson?.kernelPath ?? '';
  const initrdPath = settings.kernelPath === undefined ? bootJson?.initrdPath : settings.initrdPath;
  const fromBootJson = settings.kernelPath === undefined ? 'named by boot.json' : undefined;
  await mustBeFile(kernelPath, fromBootJson ?? FROM.kernel, 'kernel');
  if (initrdPath !== undefined) await mustBeFile(initrdPath, fromBootJson ?? FROM.initrd, 'initrd');
  const cmdline = settings.cmdline ?? bootJson?.cmdline ?? '';
  return {
    kind: 'disk',
    base,
    boot: { kernelPath, ...(initrdPath === undefined ? {} : { initrdPath }), cmdline },
  };
}

/** qemu-img's view of the base: qcow2 or raw, no backing or data file of its own; a raw one must look like a disk. */
async function inspectBase(path: string, run: RunCommand): Promise<BaseDisk> {
  // Before qemu-img: opening a FIFO (or reading a character device) would block or never end.
  const stats = await stat(path);
  if (!stats.isFile() && !stats.isBlockDevice())
    throw new ImageError(path, 'not a disk image: neither a regular file nor a block device');
  const info = await readImageInfo(path, run);
  if (info.format !== 'qcow2' && info.format !== 'raw')
    throw new ImageError(
      path,
      `a ${info.format} image; baton boots qcow2 or raw images (convert it with qemu-img convert -O qcow2)`,
    );
  if (info.backingFile !== undefined)
    throw new ImageError(
      path,
      `it has a backing file of its own (${info.backingFile}); flatten it with qemu-img convert -O qcow2`,
    );
  if (info.dataFile !== undefined)
    throw new ImageError(
      path,
      `it keeps its data in an external file (${info.dataFile}); flatten it with qemu-img convert -O qcow2`,
    );
  if (info.format === 'raw') {
    const sniffed = await sniffRawDisk(path);
    if (!sniffed.isDisk) throw new ImageError(path, `not a qcow2 or raw disk image: ${sniffed.reason}`);
  }
  return { path, format: info.format, sizeBytes: stats.size, mtimeMs: Math.trunc(stats.mtimeMs) };
}

async function mustExist(what: string, path: string, howToGet: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch (error) {
    throw new MissingDependencyError(what, howToGet, { cause: error });
  }
}

async function mustBeFile(path: string, from: string, what: string): Promise<void> {
  await mustExist(`The ${what} ${path} (${from})`, path, 'fix the path or rebuild the image');
  if (!(await stat(path)).isFile()) throw new ImageError(path, `the ${what} (${from}) is not a regular file`);
}
