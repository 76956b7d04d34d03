// Loads the real baton_native.node and exercises every export, plus the loader's search and errors.
import { accessSync, constants, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { isBatonError, NativeError, NativeLoadError } from '../../../src/errors.js';
import { listNativeCandidatePaths, loadNative, NATIVE_PATH_ENV } from '../../../src/native/binding.js';
import { NATIVE_EXPORT_NAMES, type NativeBinding } from '../../../src/native/types.js';

// The host's facts, read independently of the addon so the assertions hold on any host.
const host = {
  hasDevice: existsSync('/dev/kvm'),
  canOpenDevice: canReadWrite('/dev/kvm'),
  kvmIntel: existsSync('/sys/module/kvm_intel'),
  kvmAmd: existsSync('/sys/module/kvm_amd'),
  kvmPvm: existsSync('/sys/module/kvm_pvm'),
};
const isPvmOnlyHost = host.kvmPvm && !host.kvmIntel && !host.kvmAmd;

function canReadWrite(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const tempDir = mkdtempSync(join(tmpdir(), 'baton-native-test-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

const native = loadNative();

describe('the real addon', () => {
  test('exports exactly the functions the contract declares', () => {
    const [releasePath] = listNativeCandidatePaths({});
    const addon = createRequire(import.meta.url)(releasePath as string) as Record<string, unknown>;
    expect(Object.keys(addon).sort()).toEqual([...NATIVE_EXPORT_NAMES].sort());
    for (const name of NATIVE_EXPORT_NAMES) expect(typeof addon[name]).toBe('function');
  });

  test('rejects a non-string device path in C++ with ERR_INVALID_ARG_TYPE', () => {
    const [releasePath] = listNativeCandidatePaths({});
    const addon = createRequire(import.meta.url)(releasePath as string) as {
      probeKvm(path: unknown): unknown;
    };
    expect(() => addon.probeKvm(42)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

describe('probeKvm', () => {
  test('reports the host device and the vendor modules found in /sys/module', async () => {
    const probe = await native.probeKvm();
    expect(probe.devicePath).toBe('/dev/kvm');
    expect(probe.present).toBe(host.hasDevice);
    expect(probe.modules).toEqual({ kvmIntel: host.kvmIntel, kvmAmd: host.kvmAmd, kvmPvm: host.kvmPvm });
    expect(probe.reason).toMatch(/^\/dev\/kvm /);
    if (probe.apiVersion === 12) {
      expect(probe.capabilities.KVM_CAP_USER_MEMORY).toBeGreaterThan(0);
    } else {
      expect(probe.usable).toBe(false);
      expect(probe.capabilities).toEqual({});
    }
  });

  test.runIf(host.hasDevice && host.canOpenDevice && isPvmOnlyHost)(
    `says a kvm_pvm-only host is not usable and why${isPvmOnlyHost ? '' : ' (skipped: this host is not kvm_pvm-only)'}`,
    async () => {
      const probe = await native.probeKvm();
      expect(probe).toMatchObject({ present: true, openable: true, apiVersion: 12, usable: false });
      expect(probe.reason).toContain('served by kvm_pvm');
      expect(probe.reason).toContain('neither kvm_intel nor kvm_amd is loaded');
    },
  );

  test.runIf(host.hasDevice && host.canOpenDevice && (host.kvmIntel || host.kvmAmd))(
    `says a host with kvm_intel or kvm_amd is usable and names the module${host.kvmIntel || host.kvmAmd ? '' : ' (skipped: neither module is loaded here)'}`,
    async () => {
      const probe = await native.probeKvm();
      expect(probe).toMatchObject({ present: true, openable: true, apiVersion: 12, usable: true });
      expect(probe.reason).toMatch(/served by kvm_(intel|amd)/);
    },
  );

  test('reports a missing device as a result, not an error', async () => {
    const probe = await native.probeKvm('/nonexistent');
    expect(probe).toMatchObject({
      devicePath: '/nonexistent',
      present: false,
      openable: false,
      apiVersion: null,
      capabilities: {},
      usable: false,
    });
    expect(probe.reason).toMatch(/^\/nonexistent does not exist: /);
  });

  test('reports a regular file as not a KVM device', async () => {
    const file = join(tempDir, 'not-kvm');
    writeFileSync(file, '');
    const probe = await native.probeKvm(file);
    expect(probe).toMatchObject({ present: true, openable: true, apiVersion: null, usable: false });
    expect(probe.reason).toBe(
      `${file} is not a KVM device: KVM_GET_API_VERSION failed with ENOTTY (inappropriate ioctl for device)`,
    );
  });

  test('rejects with NativeError carrying code, syscall and errno when open fails unexpectedly', async () => {
    const error = await native.probeKvm(tempDir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NativeError);
    expect(isBatonError(error, 'EISDIR')).toBe(true);
    expect(error).toMatchObject({
      name: 'NativeError',
      code: 'EISDIR',
      syscall: 'open',
      errno: -osConstants.errno.EISDIR,
      message: `Opening ${tempDir} failed: EISDIR (is a directory)`,
    });
  });

  test('rejects an empty device path before calling C++', async () => {
    await expect(native.probeKvm('')).rejects.toThrow(TypeError);
  });
});

describe('loadNative', () => {
  test('returns the same cached binding on every call', () => {
    expect(loadNative()).toBe(native);
  });

  test('returns an injected binding unchanged', () => {
    const binding: NativeBinding = { probeKvm: () => Promise.reject(new Error('not called')) };
    expect(loadNative({ binding })).toBe(binding);
  });

  test('throws NativeLoadError naming every path tried and how to build', () => {
    const notAddon = join(tempDir, 'not-an-addon.node');
    writeFileSync(notAddon, 'plain text, not an ELF shared object\n'.repeat(4));
    const searchPaths = [join(tempDir, 'missing', 'baton_native.node'), notAddon];
    const error = (() => {
      try {
        loadNative({ searchPaths });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(NativeLoadError);
    const loadError = error as NativeLoadError;
    expect(loadError.code).toBe('NATIVE_LOAD_FAILED');
    expect(loadError.triedPaths).toEqual(searchPaths);
    expect(loadError.failures.map((failure) => failure.error.message.split('\n')[0])).toEqual([
      'not found',
      expect.stringContaining('invalid ELF header'),
    ]);
    for (const path of searchPaths) expect(loadError.message).toContain(path);
    expect(loadError.message).toContain('npm run build:native');
  });

  test('looks only at BATON_NATIVE_PATH when it is set, else at build/Release then build/Debug', () => {
    expect(listNativeCandidatePaths({ [NATIVE_PATH_ENV]: '/opt/baton/baton_native.node' })).toEqual([
      '/opt/baton/baton_native.node',
    ]);
    const defaults = listNativeCandidatePaths({});
    expect(defaults).toHaveLength(2);
    expect(defaults[0]).toMatch(/\/build\/Release\/baton_native\.node$/);
    expect(defaults[1]).toMatch(/\/build\/Debug\/baton_native\.node$/);
  });
});
