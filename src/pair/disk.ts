// An app's data disk: a raw ext4 image on the host, hot-added to whichever VM runs the app.
import { access, chown, mkdir, truncate, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { MissingDependencyError } from '../errors.js';
import { addRawFileBlockdev, addVirtioBlkDevice } from '../qmp/commands.js';
import type { Machine } from '../vm/machine.js';
import { decideQemuUser, openForTraversal } from '../vm/qemu-user.js';
import { spareRootPortId } from '../vm/spec.js';

export interface DataDisk {
  app: string;
  path: string;
  /** What the guest sees in /sys/block/vdX/serial; the agent finds the disk by it. */
  serial: string;
}

/**
 * Creates (once) a sparse raw image of `sizeBytes` with an ext4 filesystem. Existing images are
 * kept. The image is QEMU's user's (0600), since QEMU opens it when the disk is hot-added.
 */
export async function ensureDataDisk(app: string, path: string, sizeBytes: number): Promise<DataDisk> {
  const disk = { app, path, serial: `baton-${app}`.slice(0, 20) };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  openForTraversal(dirname(path));
  if (await exists(path)) {
    await handToQemuUser(path);
    return disk;
  }
  await writeFile(path, '', { mode: 0o600 });
  await truncate(path, sizeBytes);
  try {
    await execa('mkfs.ext4', [
      '-q',
      '-F',
      '-L',
      app.slice(0, 16),
      '-E',
      'lazy_itable_init=0,lazy_journal_init=0',
      path,
    ]);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') {
      throw new MissingDependencyError(
        'mkfs.ext4',
        'install it with `apt-get install e2fsprogs` or run `make setup`',
      );
    }
    throw error;
  }
  await handToQemuUser(path);
  return disk;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false; // Not there yet (or unreadable: creating it then fails loudly).
  }
}

/** Gives the image to QEMU's user when there is one (a QEMU that keeps root opens it all the same). */
async function handToQemuUser(path: string): Promise<void> {
  const { user } = decideQemuUser(undefined);
  if (user !== undefined) await chown(path, user.uid, user.gid);
}

/** Hot-adds `disk` to `machine` on its spare root port `portIndex`; QEMU's image lock refuses a second writer. */
export async function attachDataDisk(machine: Machine, disk: DataDisk, portIndex = 0): Promise<void> {
  const nodeName = `disk-${disk.app}`;
  await addRawFileBlockdev(machine.qmp, nodeName, disk.path);
  await addVirtioBlkDevice(machine.qmp, {
    deviceId: `blk-${disk.app}`,
    nodeName,
    serial: disk.serial,
    bus: spareRootPortId(portIndex),
  });
}
