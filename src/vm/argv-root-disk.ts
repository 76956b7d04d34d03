// Pure: the QEMU arguments of a VM's root disk (an overlay on a read-only base) and how it boots.
import { ROOT_DISK_DEVICE_ID, ROOT_DISK_SERIAL, type RootDiskSpec } from './spec.js';

/** The fd set the base's descriptor goes in (`-add-fd`): QEMU dups it instead of opening a path. */
export const BASE_FD_SET = 1;

/**
 * `-blockdev`s in JSON (paths need no comma escaping; the base's own backing is `null`, so a header
 * naming another file is never followed): base file (read-only) → base format (read-only) →
 * overlay file → overlay qcow2 with the base as its backing. Then one virtio-blk device on the
 * q35 root bus with a fixed id, bootable first when the firmware boots it.
 *
 * Cache: writeback through the host page cache (`cache.direct` off, flushes honoured): it works on
 * any host filesystem (tmpfs has no O_DIRECT), the guest's journal still gets its flushes to
 * disk, and both VMs read the shared base through one copy in the page cache.
 */
export function rootDiskArgv(disk: RootDiskSpec, options: { isBootDevice: boolean }): string[] {
  const argv: string[] = [];
  let baseFilename = disk.basePath;
  if (disk.baseFd !== undefined) {
    argv.push('-add-fd', `fd=${disk.baseFd},set=${BASE_FD_SET},opaque=root-base`);
    baseFilename = `/dev/fdset/${BASE_FD_SET}`;
  }
  const blockdev = (node: Record<string, unknown>) => argv.push('-blockdev', JSON.stringify(node));
  const cache = { direct: false, 'no-flush': false };
  blockdev({
    driver: 'file',
    'node-name': 'root-base-file',
    filename: baseFilename,
    'read-only': true,
    cache,
  });
  blockdev({
    driver: disk.baseFormat,
    'node-name': 'root-base',
    file: 'root-base-file',
    'read-only': true,
    ...(disk.baseFormat === 'qcow2' ? { backing: null } : {}),
  });
  blockdev({
    driver: 'file',
    'node-name': 'root-overlay-file',
    filename: disk.overlayPath,
    discard: 'unmap',
    cache,
  });
  blockdev({
    driver: 'qcow2',
    'node-name': 'root',
    file: 'root-overlay-file',
    backing: 'root-base',
    discard: 'unmap',
  });
  argv.push(
    '-device',
    `virtio-blk-pci,id=${ROOT_DISK_DEVICE_ID},drive=root,bus=pcie.0,serial=${ROOT_DISK_SERIAL}${options.isBootDevice ? ',bootindex=0' : ''}`,
  );
  return argv;
}
