// qemu-img through an injectable runner: `info` parsed as hostile JSON, `create` of a qcow2 overlay.
import { execa } from 'execa';
import { z } from 'zod';
import { ImageError, MissingDependencyError } from '../errors.js';
import { MiB } from '../units.js';

/** Runs a program from an argv array (no shell); rejects when it exits non-zero. */
export type RunCommand = (file: string, args: readonly string[]) => Promise<{ stdout: string }>;

export const QEMU_IMG = 'qemu-img';
const QEMU_IMG_TIMEOUT_MS = 30_000;

/** The default runner: execa, output capped at 1 MiB, a deadline, `ENOENT` → MissingDependencyError. */
export const runCommand: RunCommand = async (file, args) => {
  try {
    const { stdout } = await execa(file, [...args], { timeout: QEMU_IMG_TIMEOUT_MS, maxBuffer: MiB });
    return { stdout };
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT')
      throw new MissingDependencyError(
        file,
        'install it with `apt-get install qemu-utils` or run `make setup`',
      );
    throw error;
  }
};

export type DiskFormat = 'qcow2' | 'raw';

export interface ImageInfo {
  /** What qemu-img's probe says (`qcow2`, `raw`, `vmdk`, ...). */
  format: string;
  virtualSizeBytes: number;
  /** A backing file recorded in the image's header, if any. */
  backingFile?: string;
  /** A qcow2 external data file, if any. */
  dataFile?: string;
}

const shortText = z.string().max(4096);
const infoSchema = z.looseObject({
  format: z.string().max(32),
  'virtual-size': z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  'backing-filename': shortText.optional(),
  'format-specific': z
    .looseObject({ data: z.looseObject({ 'data-file': shortText.optional() }).optional() })
    .optional(),
});

/**
 * `qemu-img info --output=json` of `path`. The image's header is read without following its backing
 * file (qemu-img info opens no backing chain) and shared with a running QEMU (`--force-share`).
 * ImageError when qemu-img cannot read it or prints something that is not its JSON.
 */
export async function readImageInfo(path: string, run: RunCommand = runCommand): Promise<ImageInfo> {
  let stdout: string;
  try {
    ({ stdout } = await run(QEMU_IMG, ['info', '--force-share', '--output=json', path]));
  } catch (error) {
    if (error instanceof MissingDependencyError) throw error;
    const stderr = String((error as { stderr?: unknown }).stderr ?? (error as Error).message);
    const reason =
      stderr
        .trim()
        .split('\n')
        .at(-1)
        ?.replace(/^qemu-img: /, '') ?? 'failed';
    throw new ImageError(path, `qemu-img info failed: ${reason.slice(0, 200)}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch (error) {
    throw new ImageError(path, 'qemu-img info printed something that is not JSON', { cause: error });
  }
  const parsed = infoSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ImageError(path, `qemu-img info: unexpected ${issue?.path.join('.') || 'output'}`);
  }
  const info = parsed.data;
  const backingFile = info['backing-filename'];
  const dataFile = info['format-specific']?.data?.['data-file'];
  return {
    format: info.format,
    virtualSizeBytes: info['virtual-size'],
    ...(backingFile === undefined ? {} : { backingFile }),
    ...(dataFile === undefined ? {} : { dataFile }),
  };
}

/** `qemu-img create -f qcow2 -b <base> -F <format> <overlay>`: the base is only read, for its size. */
export async function createOverlay(
  overlayPath: string,
  base: { path: string; format: DiskFormat },
  run: RunCommand = runCommand,
): Promise<void> {
  await run(QEMU_IMG, ['create', '-q', '-f', 'qcow2', '-b', base.path, '-F', base.format, overlayPath]);
}
