// Boots one VM of the pair: the spec from the config (base memory, mirrored slots, forwards), then hello.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GUEST_LOCKUP_KERNEL_ARGS } from '../detect/guest-lockup.js';
import type { Logger } from '../log.js';
import { MiB } from '../units.js';
import { type BootedGuest, bootGuest } from '../vm/boot.js';
import { type BootImage, resolveBootImage } from '../vm/image.js';
import { openForTraversal } from '../vm/qemu-user.js';
import { ensureRootOverlay } from '../vm/root-overlay.js';
import { type Accel, DEFAULT_TCG_CACHE_BYTES, type MachineSpec, type Role } from '../vm/spec.js';
import type { PairConfig } from './config.js';
import { findFreePort } from './ports.js';

export interface PairVm extends BootedGuest {
  /** Host loopback port forwarded to each app's guest port on this VM. */
  forwards: Map<string, number>;
}

/** How one VM boots: the spec's kernel, initrd, image arguments and root disk. */
export type VmBoot = Pick<MachineSpec, 'kernelPath' | 'initrdPath' | 'imageCmdline' | 'rootDisk'>;

/** The boot fields of a spec for `image`; a disk image needs the VM's overlay path. */
export function vmBootOf(image: BootImage, overlayPath?: string): VmBoot {
  const kernel =
    image.boot === 'firmware'
      ? {}
      : {
          kernelPath: image.boot.kernelPath,
          ...(image.boot.initrdPath === undefined ? {} : { initrdPath: image.boot.initrdPath }),
          ...(image.boot.cmdline === '' ? {} : { imageCmdline: image.boot.cmdline }),
        };
  if (image.kind === 'builtin' || overlayPath === undefined) return kernel;
  return {
    ...kernel,
    rootDisk: { overlayPath, basePath: image.base.path, baseFormat: image.base.format },
  };
}

/** Builds the spec of `name` in `role`: every app slot mirrored and empty, a forward per app. */
export async function pairVmSpec(
  config: PairConfig,
  name: string,
  role: Role,
  accel: Accel,
  boot: VmBoot,
): Promise<{ spec: Omit<MachineSpec, 'runDir'>; forwards: Map<string, number> }> {
  const forwards = new Map<string, number>();
  for (const app of config.apps) forwards.set(app.name, await findFreePort());
  const spec: Omit<MachineSpec, 'runDir'> = {
    name,
    role,
    accel,
    cpus: config.cpus,
    baseMemoryBytes: config.baseBytes,
    maxMemoryBytes: config.maxMemoryBytes,
    slots: config.apps.map((app) => ({
      id: app.slot,
      maxSizeBytes: app.slotMaxBytes,
      requestedSizeBytes: 0,
      blockSizeBytes: config.blockBytes,
    })),
    ...boot,
    heartbeatMs: config.heartbeatMs,
    tcgTbSizeMiB: Math.max(1, Math.round((config.tcgCacheBytes ?? DEFAULT_TCG_CACHE_BYTES) / MiB)),
    hostForwards: config.apps.map((app) => ({
      hostPort: forwards.get(app.name) ?? 0,
      guestPort: app.guestPort,
    })),
    spareRootPorts: Math.max(1, config.apps.length),
    extraKernelArgs: [
      ...GUEST_LOCKUP_KERNEL_ARGS,
      ...(config.isFaultInjectionAllowed ? ['baton.faults=1'] : []),
    ],
  };
  return { spec, forwards };
}

/**
 * Boots `name` in `role` and waits for its agent's hello. With `isPluggedAtBoot`, every app's slot
 * holds the app's size from QEMU's command line on (a full-size VM, as restart-based HA boots it).
 * The image is checked again on every boot (a rebuilt base replaces this VM's overlay, which is
 * kept otherwise, re-protection included: the guest's journaling root filesystem recovers from a
 * crash, and the app's state lives on its data disk, which follows the app).
 */
export async function bootPairVm(
  config: PairConfig,
  name: string,
  role: Role,
  options: { accel: Accel; log: Logger; isPluggedAtBoot?: boolean },
): Promise<PairVm> {
  const runParent = join(config.stateDir, 'run');
  await mkdir(runParent, { recursive: true, mode: 0o700 });
  // QEMU's own user passes through these to its private run directory.
  openForTraversal(config.stateDir);
  openForTraversal(runParent);
  const image = await resolveBootImage(config.image);
  const overlay =
    image.kind === 'disk'
      ? await ensureRootOverlay(config.stateDir, name, image.base, { log: options.log })
      : undefined;
  const boot = vmBootOf(image, overlay?.overlayPath);
  const { spec, forwards } = await pairVmSpec(config, name, role, options.accel, boot);
  const slots = options.isPluggedAtBoot
    ? spec.slots.map((slot) => ({
        ...slot,
        requestedSizeBytes: config.apps.find((app) => app.slot === slot.id)?.sizeBytes ?? 0,
      }))
    : spec.slots;
  const guest = await bootGuest(
    { ...spec, slots },
    { runParent, log: options.log, helloTimeoutMs: config.helloTimeoutMs },
  );
  return { ...guest, forwards };
}
