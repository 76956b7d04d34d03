// The shipped Redis example (contrib/examples/redis.yaml) as a throwaway pair: what `baton demo` and `baton bench` boot.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { MissingDependencyError } from '../errors.js';
import type { PairConfig } from '../pair/config.js';
import { PACKAGE_ROOT } from '../paths.js';
import { loadConfig, toPairConfig } from './load.js';

/** Redis 7 in the Debian 12 guests that `make images` builds. */
export const REDIS_EXAMPLE_PATH = join(PACKAGE_ROOT, 'contrib', 'examples', 'redis.yaml');

/**
 * Loads an example config for a run that owns nothing: its state in `stateDir`, fault injection on
 * (the caller injects faults), every endpoint on a free port (a running daemon keeps its own). A
 * disk image that is not there fails with MissingDependencyError (exit code 3) before anything starts.
 */
export async function loadExamplePair(
  stateDir: string,
  path: string = REDIS_EXAMPLE_PATH,
): Promise<PairConfig> {
  const config = toPairConfig(await loadConfig(path));
  const image = config.image;
  if (image?.kind === 'disk') {
    try {
      await access(image.diskPath, constants.R_OK);
    } catch (error) {
      throw new MissingDependencyError(
        `The Debian guest image ${image.diskPath}`,
        'run `make images` to build it',
        { cause: error },
      );
    }
  }
  return {
    ...config,
    stateDir,
    isFaultInjectionAllowed: true,
    apps: config.apps.map((app) => ({ ...app, endpointPort: 0 })),
  };
}
