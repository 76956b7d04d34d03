import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sniffRawDisk } from '../../../src/vm/disk-signature.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-sniff-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A raw file of `sizeBytes` zeros with `bytes` written at `offset`. */
function raw(sizeBytes: number, offset = 0, bytes: readonly number[] = []): string {
  const buffer = Buffer.alloc(sizeBytes);
  Buffer.from(bytes).copy(buffer, offset);
  const path = join(dir, `disk-${sizeBytes}-${offset}.raw`);
  writeFileSync(path, buffer);
  return path;
}

const NOT_A_DISK = 'raw data with no partition table and no ext4, XFS or Btrfs filesystem';

describe('sniffing a raw disk', () => {
  it.each([
    ['partition table (MBR or GPT)', 512, 510, [0x55, 0xaa]],
    ['ext2/3/4 filesystem', 4096, 1080, [0x53, 0xef]],
    ['XFS filesystem', 4096, 0, [...Buffer.from('XFSB')]],
    ['Btrfs filesystem', 128 * 1024, 65600, [...Buffer.from('_BHRfS_M')]],
  ])('finds a %s by its signature', async (holds, size, offset, bytes) => {
    await expect(sniffRawDisk(raw(size, offset, bytes))).resolves.toEqual({ isDisk: true, holds });
  });

  it('refuses zeros, a signature off by one byte, and a reversed signature', async () => {
    await expect(sniffRawDisk(raw(4096))).resolves.toEqual({ isDisk: false, reason: NOT_A_DISK });
    await expect(sniffRawDisk(raw(4096, 511, [0x55, 0xaa]))).resolves.toMatchObject({ isDisk: false });
    await expect(sniffRawDisk(raw(4096, 510, [0xaa, 0x55]))).resolves.toMatchObject({ isDisk: false });
  });

  it('does not find a Btrfs signature past the end of a file too short to hold it', async () => {
    const path = raw(65536, 0, []);
    await expect(sniffRawDisk(path)).resolves.toEqual({ isDisk: false, reason: NOT_A_DISK });
  });

  it.each([
    [0, 'its size, 0 bytes, is not a whole number of 512-byte sectors'],
    [1000, 'its size, 1000 bytes, is not a whole number of 512-byte sectors'],
  ])('refuses a file of %i bytes by its size', async (size, reason) => {
    await expect(sniffRawDisk(raw(size))).resolves.toEqual({ isDisk: false, reason });
  });

  it('refuses a FIFO at once (no writer needed) and a character device', async () => {
    const fifo = join(dir, 'fifo.raw');
    execFileSync('mkfifo', [fifo]);
    const reason = 'it is neither a regular file nor a block device';
    await expect(sniffRawDisk(fifo)).resolves.toEqual({ isDisk: false, reason });
    await expect(sniffRawDisk('/dev/null')).resolves.toEqual({ isDisk: false, reason });
  });

  it('rejects with ENOENT for a file that is not there', async () => {
    await expect(sniffRawDisk(join(dir, 'gone.raw'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
