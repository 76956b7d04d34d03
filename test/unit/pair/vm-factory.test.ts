import { describe, expect, it } from 'vitest';
import { defaultPairConfig } from '../../../src/pair/config.js';
import { pairVmSpec, vmBootOf } from '../../../src/pair/vm-factory.js';
import { MiB } from '../../../src/units.js';
import type { BootImage } from '../../../src/vm/image.js';

const base = { path: '/img/base.qcow2', format: 'qcow2' as const, sizeBytes: 1, mtimeMs: 2 };

describe('vmBootOf', () => {
  it('boots the built-in kernel and initramfs with no root disk and no image arguments', () => {
    const image: BootImage = { kind: 'builtin', boot: { kernelPath: '/k', initrdPath: '/i', cmdline: '' } };
    expect(vmBootOf(image)).toEqual({ kernelPath: '/k', initrdPath: '/i' });
  });

  it('boots a disk image kernel with its arguments on the VM overlay', () => {
    const image: BootImage = {
      kind: 'disk',
      base,
      boot: { kernelPath: '/k', cmdline: 'root=LABEL=root ro' },
    };
    expect(vmBootOf(image, '/state/disks/vm-a-root.qcow2')).toEqual({
      kernelPath: '/k',
      imageCmdline: 'root=LABEL=root ro',
      rootDisk: {
        overlayPath: '/state/disks/vm-a-root.qcow2',
        basePath: '/img/base.qcow2',
        baseFormat: 'qcow2',
      },
    });
  });

  it('boots through the firmware with only the root disk', () => {
    const image: BootImage = { kind: 'disk', base: { ...base, format: 'raw' }, boot: 'firmware' };
    expect(vmBootOf(image, '/o.qcow2')).toEqual({
      rootDisk: { overlayPath: '/o.qcow2', basePath: '/img/base.qcow2', baseFormat: 'raw' },
    });
  });
});

describe('pairVmSpec', () => {
  const boot = vmBootOf({ kind: 'builtin', boot: { kernelPath: '/k', initrdPath: '/i', cmdline: '' } });

  it('gives QEMU the configured TCG translation cache in MiB, 16 MiB when the config says nothing', async () => {
    const config = defaultPairConfig('/tmp/baton-spec');
    const { spec } = await pairVmSpec({ ...config, tcgCacheBytes: 64 * MiB }, 'vm-a', 'active', 'tcg', boot);
    expect(spec.tcgTbSizeMiB).toBe(64);
    const { tcgCacheBytes: _, ...without } = config;
    expect((await pairVmSpec(without, 'vm-b', 'standby', 'tcg', boot)).spec.tcgTbSizeMiB).toBe(16);
  });
});
