// The cross-field rules of vms.image (its fields one by one: image.test.ts).
import { describe, expect, it } from 'vitest';
import { checkImage } from '../../../src/config/image-rules.js';
import { configWith, problemsWith } from './fixtures.js';

describe('config: vms.image cross-field rules', () => {
  it('refuses a kernel, initrd or cmdline with a firmware boot', () => {
    expect(
      problemsWith({ 'vms.image': { disk: '/d', firmware: true, kernel: '/k', cmdline: 'ro' } }),
    ).toEqual([
      "baton.yaml: vms.image.kernel: expected nothing with vms.image.firmware: true (the image's own bootloader chooses the kernel and its arguments), got '/k'",
      "baton.yaml: vms.image.cmdline: expected nothing with vms.image.firmware: true (the image's own bootloader chooses the kernel and its arguments), got 'ro'",
    ]);
  });

  it('refuses an initrd without a kernel', () => {
    expect(problemsWith({ 'vms.image': { disk: '/d', initrd: '/i' } })).toEqual([
      "baton.yaml: vms.image.initrd: expected it only with vms.image.kernel (an initrd goes with the kernel it was built for), got '/i'",
    ]);
  });

  it('refuses an initrd alone with a firmware boot, by its own path', () => {
    expect(checkImage(configWith({ 'vms.image': { disk: '/d' } }))).toEqual([]);
    const firmware = configWith({ 'vms.image': { disk: '/d', firmware: true } });
    if (firmware.vms.image.kind !== 'disk') throw new Error('expected a disk image');
    const withInitrd = {
      ...firmware,
      vms: { ...firmware.vms, image: { ...firmware.vms.image, initrdPath: '/i' } },
    };
    expect(checkImage(withInitrd).map((p) => p.path)).toEqual(['vms.image.initrd']);
  });

  it('accepts the built-in image, and a disk with kernel, initrd and cmdline together', () => {
    expect(checkImage(configWith({}))).toEqual([]);
    expect(problemsWith({ 'vms.image': { disk: '/d', kernel: '/k', initrd: '/i', cmdline: 'ro' } })).toEqual(
      [],
    );
  });
});
