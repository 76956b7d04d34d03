// boot.json beside a disk image (written by the image build): how to boot it directly, read as hostile input.
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { z } from 'zod';
import { ImageError } from '../errors.js';

export const BOOT_JSON = 'boot.json';
const MAX_BOOT_JSON_BYTES = 64 * 1024;

/** A file name in the image's folder: no `/`, no `..`, no NUL (baton opens it as root for QEMU). */
const fileInFolder = z
  .string()
  .min(1)
  .max(255)
  .refine((name) => !name.includes('/') && !name.includes('\0') && name !== '.' && name !== '..', {
    message: 'a file name in the same folder',
  });

const bootJsonSchema = z.object({
  format: z.enum(['qcow2', 'raw']),
  disk: fileInFolder,
  kernel: fileInFolder,
  initrd: fileInFolder.optional(),
  cmdline: z
    .string()
    .max(1024)
    .regex(/^[\x20-\x7e]*$/, { message: 'printable ASCII on one line' })
    .default(''),
});

/** boot.json with its paths made absolute (and proved to stay in the image's folder). */
export interface BootJson {
  path: string;
  format: 'qcow2' | 'raw';
  diskPath: string;
  kernelPath: string;
  initrdPath?: string;
  cmdline: string;
}

/** The boot.json beside `diskPath`: undefined when there is none; ImageError when it is there but wrong. */
export async function readBootJson(diskPath: string): Promise<BootJson | undefined> {
  const folder = dirname(diskPath);
  const path = join(folder, BOOT_JSON);
  let text: string;
  try {
    text = await readSmallFile(path, MAX_BOOT_JSON_BYTES);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw new ImageError(path, `cannot read it: ${(error as Error).message}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ImageError(path, 'not JSON', { cause: error });
  }
  const parsed = bootJsonSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(the document)';
    throw new ImageError(path, `${where}: ${issue?.message ?? 'invalid'}`);
  }
  const data = parsed.data;
  const realFolder = await realpath(folder);
  const inFolder = async (name: string): Promise<string> => {
    const full = join(folder, name);
    // A symlink out of the folder would let a boot.json name any host file for QEMU to read.
    // A file not there yet is reported missing by the caller; `name` has no `/`, so it would be in the real folder.
    const real = await realpath(full).catch(() => join(realFolder, name));
    if (!real.startsWith(realFolder + sep))
      throw new ImageError(path, `${name} leads out of ${folder} (to ${real})`);
    return full;
  };
  return {
    path,
    format: data.format,
    diskPath: await inFolder(data.disk),
    kernelPath: await inFolder(data.kernel),
    ...(data.initrd === undefined ? {} : { initrdPath: await inFolder(data.initrd) }),
    cmdline: data.cmdline.trim(),
  };
}

async function readSmallFile(path: string, maxBytes: number): Promise<string> {
  // O_NONBLOCK: a FIFO put there would otherwise block the open until something writes to it.
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    if (!(await handle.stat()).isFile()) throw new Error('not a regular file');
    const buffer = Buffer.alloc(maxBytes + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > maxBytes) throw new Error(`larger than ${maxBytes} bytes`);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}
