import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/errors.js';
import { buildKernelCmdline, buildQemuArgv } from '../../../src/vm/argv.js';
import { rootDiskArgv } from '../../../src/vm/argv-root-disk.js';
import type { MachineSpec, RootDiskSpec } from '../../../src/vm/spec.js';

const MiB = 1024 * 1024;

const rootDisk: RootDiskSpec = {
  overlayPath: '/var/lib/baton/disks/vm-a-root.qcow2',
  basePath: '/images/debian/base.qcow2',
  baseFormat: 'qcow2',
};

const disked: MachineSpec = {
  name: 'vm-a',
  role: 'active',
  accel: 'tcg',
  cpus: 1,
  baseMemoryBytes: 512 * MiB,
  maxMemoryBytes: 2048 * MiB,
  slots: [],
  kernelPath: '/images/debian/vmlinuz',
  initrdPath: '/images/debian/initrd.img',
  imageCmdline: 'root=LABEL=root ro',
  rootDisk,
  heartbeatMs: 500,
  runDir: '/run/baton/vm-a',
  tcgTbSizeMiB: 16,
};

const { kernelPath: _k, initrdPath: _i, imageCmdline: _c, ...firmware } = disked;

/** The values after each occurrence of `flag`. */
function valuesOf(argv: readonly string[], flag: string): string[] {
  return argv.flatMap((arg, index) => (arg === flag ? [argv[index + 1] ?? ''] : []));
}

describe('rootDiskArgv', () => {
  it('chains a read-only base under a writable overlay, the base passed as a descriptor', () => {
    const argv = rootDiskArgv({ ...rootDisk, baseFd: 5 }, { isBootDevice: false });
    expect(valuesOf(argv, '-add-fd')).toEqual(['fd=5,set=1,opaque=root-base']);
    expect(valuesOf(argv, '-blockdev').map((text) => JSON.parse(text))).toEqual([
      {
        driver: 'file',
        'node-name': 'root-base-file',
        filename: '/dev/fdset/1',
        'read-only': true,
        cache: { direct: false, 'no-flush': false },
      },
      { driver: 'qcow2', 'node-name': 'root-base', file: 'root-base-file', 'read-only': true, backing: null },
      {
        driver: 'file',
        'node-name': 'root-overlay-file',
        filename: '/var/lib/baton/disks/vm-a-root.qcow2',
        discard: 'unmap',
        cache: { direct: false, 'no-flush': false },
      },
      {
        driver: 'qcow2',
        'node-name': 'root',
        file: 'root-overlay-file',
        backing: 'root-base',
        discard: 'unmap',
      },
    ]);
    expect(valuesOf(argv, '-device')).toEqual([
      'virtio-blk-pci,id=root-disk,drive=root,bus=pcie.0,serial=baton-root',
    ]);
  });

  it('opens a raw base with the raw driver and no backing key, by path without a descriptor', () => {
    const argv = rootDiskArgv(
      { ...rootDisk, basePath: '/img/a,b.raw', baseFormat: 'raw' },
      { isBootDevice: true },
    );
    expect(argv).not.toContain('-add-fd');
    const nodes = valuesOf(argv, '-blockdev').map((text) => JSON.parse(text));
    expect(nodes[0].filename).toBe('/img/a,b.raw');
    expect(nodes[1]).toEqual({
      driver: 'raw',
      'node-name': 'root-base',
      file: 'root-base-file',
      'read-only': true,
    });
    expect(valuesOf(argv, '-device')).toEqual([
      'virtio-blk-pci,id=root-disk,drive=root,bus=pcie.0,serial=baton-root,bootindex=0',
    ]);
  });
});

describe('buildQemuArgv with a root disk', () => {
  it('boots the kernel directly with the image arguments before baton’s', () => {
    const argv = buildQemuArgv(disked);
    expect(valuesOf(argv, '-kernel')).toEqual(['/images/debian/vmlinuz']);
    expect(valuesOf(argv, '-initrd')).toEqual(['/images/debian/initrd.img']);
    expect(valuesOf(argv, '-append')).toEqual([
      'root=LABEL=root ro console=ttyS0 quiet panic=-1 memhp_default_state=online_movable swiotlb=noforce baton.name=vm-a baton.heartbeat_ms=500',
    ]);
    expect(valuesOf(argv, '-device')).toContain(
      'virtio-blk-pci,id=root-disk,drive=root,bus=pcie.0,serial=baton-root',
    );
  });

  it('boots a kernel without an initrd when none is given', () => {
    const { initrdPath: _, ...noInitrd } = disked;
    const argv = buildQemuArgv(noInitrd);
    expect(argv).not.toContain('-initrd');
    expect(valuesOf(argv, '-kernel')).toEqual(['/images/debian/vmlinuz']);
  });

  it('boots through the firmware from the root disk: no -kernel, no -append, the disk first', () => {
    const argv = buildQemuArgv(firmware);
    for (const flag of ['-kernel', '-initrd', '-append']) expect(argv).not.toContain(flag);
    expect(valuesOf(argv, '-device')).toContain(
      'virtio-blk-pci,id=root-disk,drive=root,bus=pcie.0,serial=baton-root,bootindex=0',
    );
  });

  it('keeps the built-in cmdline unchanged without image arguments', () => {
    const { imageCmdline: _, ...plain } = disked;
    expect(buildKernelCmdline(plain).startsWith('console=ttyS0 ')).toBe(true);
  });

  it('refuses a spec with nothing to boot, or kernel arguments without a kernel', () => {
    const { rootDisk: _, ...nothing } = firmware;
    expect(() => buildQemuArgv(nothing)).toThrow(
      new InvalidInputError('Nothing to boot for vm-a: no kernel and no root disk'),
    );
    expect(() => buildQemuArgv({ ...firmware, imageCmdline: 'ro' })).toThrow(
      new InvalidInputError('Invalid boot for vm-a: an initrd or kernel arguments without a kernel'),
    );
  });
});
