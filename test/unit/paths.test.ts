import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultImagePaths, PACKAGE_ROOT } from '../../src/paths.js';

describe('baton’s own paths', () => {
  it('finds the package root, where package.json and src/ are', () => {
    expect(existsSync(join(PACKAGE_ROOT, 'package.json'))).toBe(true);
    expect(existsSync(join(PACKAGE_ROOT, 'src', 'paths.ts'))).toBe(true);
  });

  it('looks for the guest image in images/out unless BATON_IMAGE_DIR says otherwise', () => {
    expect(defaultImagePaths({})).toEqual({
      kernelPath: join(PACKAGE_ROOT, 'images', 'out', 'vmlinuz'),
      initrdPath: join(PACKAGE_ROOT, 'images', 'out', 'initramfs.cpio.gz'),
      manifestPath: join(PACKAGE_ROOT, 'images', 'out', 'manifest.json'),
    });
    expect(defaultImagePaths({ BATON_IMAGE_DIR: '/srv/img' })).toEqual({
      kernelPath: '/srv/img/vmlinuz',
      initrdPath: '/srv/img/initramfs.cpio.gz',
      manifestPath: '/srv/img/manifest.json',
    });
  });
});
