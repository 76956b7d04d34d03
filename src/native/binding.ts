// Finds, loads and caches baton_native.node, checks its exports, and wraps its errors as NativeError.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeError, NativeLoadError, type NativeLoadFailure } from '../errors.js';
import { type KvmProbe, NATIVE_EXPORT_NAMES, type NativeBinding } from './types.js';

/** Environment variable naming the one .node file to load instead of the build directories. */
export const NATIVE_PATH_ENV = 'BATON_NATIVE_PATH';

const ADDON_FILE_NAME = 'baton_native.node';

export interface LoadNativeOptions {
  /** Returned as is: lets tests and embedders run without a compiled addon. */
  binding?: NativeBinding;
  /** Replaces the default candidate paths (and BATON_NATIVE_PATH). */
  searchPaths?: readonly string[];
}

const requireAddon = createRequire(import.meta.url);
const loadedByPath = new Map<string, NativeBinding>();

/**
 * Returns the native binding: the injected one, else the first candidate path that loads.
 * Loaded addons are cached by path.
 * @throws NativeLoadError listing every path tried and why each failed.
 */
export function loadNative(options: LoadNativeOptions = {}): NativeBinding {
  if (options.binding !== undefined) return options.binding;
  const failures: NativeLoadFailure[] = [];
  for (const path of options.searchPaths ?? listNativeCandidatePaths(process.env)) {
    const cached = loadedByPath.get(path);
    if (cached !== undefined) return cached;
    try {
      const binding = wrapAddon(requireAddonAt(path));
      loadedByPath.set(path, binding);
      return binding;
    } catch (error) {
      failures.push({ path, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
  throw new NativeLoadError(failures);
}

/**
 * Where the addon is looked for: only `$BATON_NATIVE_PATH` when it is set (a wrong override
 * should fail, not fall back silently), else build/Release and build/Debug under the package root.
 */
export function listNativeCandidatePaths(env: NodeJS.ProcessEnv): string[] {
  const override = env[NATIVE_PATH_ENV];
  if (override !== undefined && override !== '') return [resolve(override)];
  const root = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  return [join(root, 'build', 'Release', ADDON_FILE_NAME), join(root, 'build', 'Debug', ADDON_FILE_NAME)];
}

function findPackageRoot(startDir: string): string {
  for (let dir = startDir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return startDir;
  }
}

function requireAddonAt(path: string): NativeBinding {
  if (!existsSync(path)) throw new Error('not found');
  const addon: unknown = requireAddon(path);
  for (const name of NATIVE_EXPORT_NAMES) {
    if (typeof (addon as Record<string, unknown>)[name] !== 'function') {
      throw new Error(`loaded, but does not export ${name}(): it is stale, rebuild it`);
    }
  }
  return addon as NativeBinding;
}

/** Validates arguments before they reach C++, and turns the addon's errors into NativeError. */
function wrapAddon(addon: NativeBinding): NativeBinding {
  return {
    async probeKvm(devicePath?: string): Promise<KvmProbe> {
      if (devicePath !== undefined && (typeof devicePath !== 'string' || devicePath === '')) {
        throw new TypeError(`probeKvm: devicePath must be a non-empty string, got ${String(devicePath)}`);
      }
      try {
        return await addon.probeKvm(devicePath);
      } catch (error) {
        throw toNativeError(error);
      }
    },
  };
}

/** Errors from the addon carry a string `code`; anything else is rethrown unchanged. */
function toNativeError(error: unknown): unknown {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string') return error;
  const fields = error as Error & { code: string; syscall?: unknown; errno?: unknown };
  return new NativeError(
    {
      code: fields.code,
      message: fields.message,
      ...(typeof fields.syscall === 'string' ? { syscall: fields.syscall } : {}),
      ...(typeof fields.errno === 'number' ? { errno: fields.errno } : {}),
    },
    { cause: error },
  );
}
