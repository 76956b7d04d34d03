// Whether a raw file looks like a disk: a partition table (MBR/GPT) or a filesystem baton knows, read from its first 68 KiB.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Byte signatures at fixed offsets: what makes a raw file a bootable disk rather than any file. */
const SIGNATURES: ReadonlyArray<{ what: string; offset: number; bytes: readonly number[] }> = [
  { what: 'partition table (MBR or GPT)', offset: 510, bytes: [0x55, 0xaa] },
  { what: 'ext2/3/4 filesystem', offset: 1024 + 56, bytes: [0x53, 0xef] },
  { what: 'XFS filesystem', offset: 0, bytes: [...Buffer.from('XFSB')] },
  { what: 'Btrfs filesystem', offset: 65536 + 64, bytes: [...Buffer.from('_BHRfS_M')] },
];

const SECTOR_BYTES = 512;
const HEAD_BYTES = 65536 + 72;

/** What a raw image holds (`ext2/3/4 filesystem`), or why it is not a disk. */
export async function sniffRawDisk(
  path: string,
): Promise<{ isDisk: true; holds: string } | { isDisk: false; reason: string }> {
  // O_NONBLOCK: a FIFO in the disk's place opens at once instead of waiting for a writer.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (!stats.isFile() && !stats.isBlockDevice())
      return { isDisk: false, reason: 'it is neither a regular file nor a block device' };
    const { size } = stats;
    if (size === 0 || size % SECTOR_BYTES !== 0)
      return { isDisk: false, reason: `its size, ${size} bytes, is not a whole number of 512-byte sectors` };
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, HEAD_BYTES, 0);
    for (const { what, offset, bytes } of SIGNATURES) {
      if (offset + bytes.length > bytesRead) continue;
      if (bytes.every((byte, index) => head[offset + index] === byte)) return { isDisk: true, holds: what };
    }
    return {
      isDisk: false,
      reason: 'raw data with no partition table and no ext4, XFS or Btrfs filesystem',
    };
  } finally {
    await handle.close();
  }
}
