// Spawns one QEMU: argv array (no shell), its own session, unprivileged where it can be.
import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, closeSync, constants, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildQemuArgv } from './argv.js';
import { decideQemuUser, type QemuUserDecision } from './qemu-user.js';
import type { MachineSpec, RunPaths } from './spec.js';

/** Where QEMU finds the kernel and initramfs: descriptors it inherits (3 and 4), not paths it must reach. */
export const KERNEL_FD_PATH = '/dev/fd/3';
export const INITRD_FD_PATH = '/dev/fd/4';

export interface SpawnedQemu {
  child: ChildProcess;
  argv: string[];
  /** Who QEMU runs as, and why. */
  user: QemuUserDecision;
}

/**
 * Starts QEMU for `spec`. When the daemon is root and the QEMU user can reach the run directory,
 * QEMU is spawned as that user from the start (it never holds root: `-sandbox` also forbids it to
 * change its ids), its run directory is handed to it, and the kernel and initramfs are passed as
 * inherited read-only descriptors, so their folders need not be open to it.
 */
export function spawnQemu(binary: string, spec: MachineSpec, paths: RunPaths): SpawnedQemu {
  const user = decideQemuUser(dirname(spec.runDir));
  const argv = buildQemuArgv({ ...spec, kernelPath: KERNEL_FD_PATH, initrdPath: INITRD_FD_PATH });
  const logFd = openSync(paths.qemuLog, 'a', 0o600);
  const kernelFd = openSync(spec.kernelPath, constants.O_RDONLY);
  const initrdFd = openSync(spec.initrdPath, constants.O_RDONLY);
  try {
    if (user.user !== undefined) {
      chownSync(spec.runDir, user.user.uid, user.user.gid);
      chownSync(paths.qemuLog, user.user.uid, user.user.gid);
    }
    // detached: QEMU gets its own session and process group, so it outlives a daemon restart.
    const child = spawn(binary, argv, {
      stdio: ['ignore', logFd, logFd, kernelFd, initrdFd],
      detached: true,
      ...(user.user === undefined ? {} : { uid: user.user.uid, gid: user.user.gid }),
    });
    return { child, argv, user };
  } finally {
    closeSync(logFd);
    closeSync(kernelFd);
    closeSync(initrdFd);
  }
}
