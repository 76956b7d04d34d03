// Where baton's own files are: the package root, the built guest image, the default run directory.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: one level above `src/` (sources) or `dist/` (built output). */
export const PACKAGE_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

export interface ImagePaths {
  kernelPath: string;
  initrdPath: string;
  manifestPath: string;
}

/** The guest image that `make images` builds; BATON_IMAGE_DIR overrides its folder. */
export function defaultImagePaths(env: NodeJS.ProcessEnv = process.env): ImagePaths {
  const dir = env.BATON_IMAGE_DIR ?? join(PACKAGE_ROOT, 'images', 'out');
  return {
    kernelPath: join(dir, 'vmlinuz'),
    initrdPath: join(dir, 'initramfs.cpio.gz'),
    manifestPath: join(dir, 'manifest.json'),
  };
}
