// Hot-removes an app's data disk from a VM: device_del, the guest's release (DEVICE_DELETED), blockdev-del.
import { QmpCommandError, QmpDisconnectedError, WaitTimeoutError } from '../errors.js';
import type { QmpClient } from '../qmp/client.js';
import { deleteBlockdev, deleteDevice, onDeviceDeleted } from '../qmp/commands.js';
import type { DataDisk } from './disk.js';

/** The VM a disk is detached from: its name for messages and its QMP connection (a Machine fits). */
export interface DiskHost {
  readonly spec: { readonly name: string };
  readonly qmp: QmpClient;
}

/** The block node attachDataDisk adds for `app` (`disk-kvd`). */
export function diskNodeNameOf(app: string): string {
  return `disk-${app}`;
}

/** The virtio-blk device id attachDataDisk adds for `app` (`blk-kvd`). */
export function diskDeviceIdOf(app: string): string {
  return `blk-${app}`;
}

/**
 * Undoes attachDataDisk: asks the guest to release `blk-<app>` (device_del), waits up to
 * `timeoutMs` for QEMU's DEVICE_DELETED of that id, then deletes the block node `disk-<app>`,
 * which releases the image lock so another VM can open the disk. The app must be stopped and its
 * filesystem unmounted first (the agent's app.stop does both). A device or node that is already
 * gone counts as detached, so a retry after a partial detach finishes the job.
 */
export async function detachDataDisk(host: DiskHost, disk: DataDisk, timeoutMs: number): Promise<void> {
  const deviceId = diskDeviceIdOf(disk.app);
  // Watch before asking: QEMU may send the event before the command's reply.
  const deletion = watchDeletion(host, deviceId, timeoutMs);
  try {
    await deleteDevice(host.qmp, deviceId);
  } catch (error) {
    deletion.cancel();
    // Not there: detached already (an earlier attempt finished after its wait gave up).
    if (!(error instanceof QmpCommandError && error.errorClass === 'DeviceNotFound')) throw error;
  }
  await deletion.released;
  try {
    await deleteBlockdev(host.qmp, diskNodeNameOf(disk.app));
  } catch (error) {
    // QEMU's wording for a node that does not exist: deleted already by an earlier attempt.
    if (!(error instanceof QmpCommandError && error.desc.startsWith('Failed to find node'))) throw error;
  }
}

/** Resolves `released` on DEVICE_DELETED of `deviceId`; rejects it after `timeoutMs` or when QMP closes. */
function watchDeletion(
  host: DiskHost,
  deviceId: string,
  timeoutMs: number,
): { released: Promise<void>; cancel: () => void } {
  let cancel: () => void = () => undefined;
  const released = new Promise<void>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      stopListening();
      host.qmp.off('close', onClose);
    };
    const stopListening = onDeviceDeleted(host.qmp, (deleted) => {
      if (deleted.deviceId !== deviceId) return;
      done();
      resolve();
    });
    const onClose = () => {
      done();
      reject(
        new QmpDisconnectedError({ vm: host.spec.name, command: `wait for DEVICE_DELETED of ${deviceId}` }),
      );
    };
    const timer = setTimeout(() => {
      done();
      reject(
        new WaitTimeoutError({
          waitedFor: `QMP DEVICE_DELETED of ${deviceId} on ${host.spec.name}`,
          timeoutMs,
          lastSeen: 'no DEVICE_DELETED for it',
          hint: 'the guest has not released the disk (is it still mounted?)',
        }),
      );
    }, timeoutMs);
    host.qmp.once('close', onClose);
    cancel = () => {
      done();
      resolve();
    };
  });
  return { released, cancel };
}
