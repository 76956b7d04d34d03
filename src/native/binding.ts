// Finds, loads and caches baton_native.node, checks its exports, and wraps its errors as NativeError.
import { constants as bufferConstants } from 'node:buffer';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeError, NativeLoadError, type NativeLoadFailure } from '../errors.js';
import {
  type KvmProbe,
  NATIVE_EXPORT_NAMES,
  type NativeBinding,
  type PeerCredentials,
  type ProcessWatch,
} from './types.js';

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

    watchProcess(pid: number, onExit: () => void): ProcessWatch {
      checkInteger('watchProcess', 'pid', pid, PID_RANGE);
      if (typeof onExit !== 'function') {
        throw new TypeError(`watchProcess: onExit must be a function, got ${describeValue(onExit)}`);
      }
      const watch = callAddon(() => addon.watchProcess(pid, onExit));
      return { close: () => watch.close() };
    },

    peerCredentials(fd: number): PeerCredentials {
      checkInteger('peerCredentials', 'fd', fd, FD_RANGE);
      return callAddon(() => addon.peerCredentials(fd));
    },

    memfdCreate(name: string, sizeBytes: number): number {
      if (typeof name !== 'string') {
        throw new TypeError(`memfdCreate: name must be a string, got ${describeValue(name)}`);
      }
      checkInteger('memfdCreate', 'sizeBytes', sizeBytes, BYTES_RANGE);
      return callAddon(() => addon.memfdCreate(name, sizeBytes));
    },

    memfdWrite(fd: number, offsetBytes: number, data: Uint8Array): void {
      checkInteger('memfdWrite', 'fd', fd, FD_RANGE);
      checkInteger('memfdWrite', 'offsetBytes', offsetBytes, BYTES_RANGE);
      if (!(data instanceof Uint8Array)) {
        throw new TypeError(`memfdWrite: data must be a Buffer or Uint8Array, got ${describeValue(data)}`);
      }
      callAddon(() => addon.memfdWrite(fd, offsetBytes, data));
    },

    memfdRead(fd: number, offsetBytes: number, lengthBytes: number): Buffer {
      checkInteger('memfdRead', 'fd', fd, FD_RANGE);
      checkInteger('memfdRead', 'offsetBytes', offsetBytes, BYTES_RANGE);
      checkInteger('memfdRead', 'lengthBytes', lengthBytes, READ_LENGTH_RANGE);
      return callAddon(() => addon.memfdRead(fd, offsetBytes, lengthBytes));
    },

    async punchHole(fd: number, offsetBytes: number, lengthBytes: number): Promise<void> {
      checkHoleRange('punchHole', fd, offsetBytes, lengthBytes);
      try {
        await addon.punchHole(fd, offsetBytes, lengthBytes);
      } catch (error) {
        throw toNativeError(error);
      }
    },

    async scrubArea(fd: number, offsetBytes: number, lengthBytes: number): Promise<void> {
      checkHoleRange('scrubArea', fd, offsetBytes, lengthBytes);
      try {
        await addon.scrubArea(fd, offsetBytes, lengthBytes);
      } catch (error) {
        throw toNativeError(error);
      }
    },
  };
}

/** An inclusive integer range and how a TypeError message names it. */
interface IntegerRange {
  readonly min: number;
  readonly max: number;
  readonly description: string;
}

const FD_RANGE: IntegerRange = {
  min: 0,
  max: 0x7fff_ffff,
  description: 'a file descriptor (0 to 2147483647)',
};
const PID_RANGE: IntegerRange = { min: 1, max: 0x7fff_ffff, description: 'an integer from 1 to 2147483647' };
const BYTES_RANGE: IntegerRange = {
  min: 0,
  max: Number.MAX_SAFE_INTEGER,
  description: 'a non-negative safe integer',
};
const HOLE_LENGTH_RANGE: IntegerRange = {
  min: 1,
  max: Number.MAX_SAFE_INTEGER,
  description: 'a positive safe integer',
};
const READ_LENGTH_RANGE: IntegerRange = {
  min: 0,
  max: bufferConstants.MAX_LENGTH,
  description: `a non-negative safe integer up to ${bufferConstants.MAX_LENGTH} (the largest Buffer)`,
};

function checkInteger(fn: string, name: string, value: unknown, range: IntegerRange): void {
  if (typeof value === 'number' && Number.isInteger(value) && value >= range.min && value <= range.max)
    return;
  throw new TypeError(`${fn}: ${name} must be ${range.description}, got ${describeValue(value)}`);
}

function checkHoleRange(fn: string, fd: unknown, offsetBytes: unknown, lengthBytes: unknown): void {
  checkInteger(fn, 'fd', fd, FD_RANGE);
  checkInteger(fn, 'offsetBytes', offsetBytes, BYTES_RANGE);
  checkInteger(fn, 'lengthBytes', lengthBytes, HOLE_LENGTH_RANGE);
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array || Array.isArray(value)) return value.constructor.name;
  return String(value);
}

/** Runs a synchronous addon call, turning its errors into NativeError. */
function callAddon<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw toNativeError(error);
  }
}

/**
 * Errors from the addon carry a string `code`; anything else is rethrown unchanged, and so are the
 * addon's own argument TypeErrors (ERR_INVALID_ARG_*), which validation here should have caught.
 */
function toNativeError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof TypeError) return error;
  if (!('code' in error) || typeof error.code !== 'string') return error;
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
