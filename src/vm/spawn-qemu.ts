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
/** The root disk's base image, inherited read-only and handed to QEMU's block layer with `-add-fd`. */
export const BASE_FD = 5;

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
  const argv = buildQemuArgv({
    ...spec,
    ...(spec.kernelPath === undefined ? {} : { kernelPath: KERNEL_FD_PATH }),
    ...(spec.initrdPath === undefined ? {} : { initrdPath: INITRD_FD_PATH }),
    ...(spec.rootDisk === undefined ? {} : { rootDisk: { ...spec.rootDisk, baseFd: BASE_FD } }),
  });
  const opened: number[] = [];
  const openReadOnly = (path: string | undefined): number | 'ignore' => {
    if (path === undefined) return 'ignore';
    const fd = openSync(path, constants.O_RDONLY);
    opened.push(fd);
    return fd;
  };
  try {
    const logFd = openSync(paths.qemuLog, 'a', 0o600);
    opened.push(logFd);
    // Fixed positions: 3 kernel, 4 initrd, 5 base (an unused one stays closed in QEMU).
    const kernelFd = openReadOnly(spec.kernelPath);
    const initrdFd = openReadOnly(spec.initrdPath);
    const baseFd = openReadOnly(spec.rootDisk?.basePath);
    if (user.user !== undefined) {
      chownSync(spec.runDir, user.user.uid, user.user.gid);
      chownSync(paths.qemuLog, user.user.uid, user.user.gid);
    }
    // detached: QEMU gets its own session and process group, so it outlives a daemon restart.
    const child = spawn(binary, argv, {
      stdio: ['ignore', logFd, logFd, kernelFd, initrdFd, baseFd],
      detached: true,
      ...(user.user === undefined ? {} : { uid: user.user.uid, gid: user.user.gid }),
    });
    return { child, argv, user };
  } finally {
    for (const fd of opened) closeSync(fd);
  }
}
