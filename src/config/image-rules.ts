// Cross-field rules of vms.image: a firmware boot takes no kernel, an initrd needs its kernel.
import { type ConfigProblem, quote } from './problems.js';
import type { BatonConfig } from './types.js';

/** A firmware boot takes nothing for a kernel; an initrd needs a kernel to go with it. */
export function checkImage(config: BatonConfig): ConfigProblem[] {
  const { image } = config.vms;
  if (image.kind !== 'disk') return [];
  const given = (['kernelPath', 'initrdPath', 'cmdline'] as const).filter((key) => image[key] !== undefined);
  const keyOf = { kernelPath: 'kernel', initrdPath: 'initrd', cmdline: 'cmdline' } as const;
  if (image.isFirmwareBoot) {
    return given.map((key) => ({
      path: `vms.image.${keyOf[key]}`,
      message: `expected nothing with vms.image.firmware: true (the image's own bootloader chooses the kernel and its arguments), got ${quote(String(image[key]))}`,
    }));
  }
  if (image.initrdPath !== undefined && image.kernelPath === undefined) {
    return [
      {
        path: 'vms.image.initrd',
        message: `expected it only with vms.image.kernel (an initrd goes with the kernel it was built for), got ${quote(image.initrdPath)}`,
      },
    ];
  }
  return [];
}
