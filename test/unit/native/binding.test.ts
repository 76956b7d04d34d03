// Loads the real baton_native.node and exercises every export, plus the loader's search and errors.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, test, vi } from 'vitest';
import { isBatonError, NativeError, NativeLoadError } from '../../../src/errors.js';
import { listNativeCandidatePaths, loadNative, NATIVE_PATH_ENV } from '../../../src/native/binding.js';
import { NATIVE_ERROR_CODES, NATIVE_EXPORT_NAMES, type NativeBinding } from '../../../src/native/types.js';

// The host's facts, read independently of the addon so the assertions hold on any host.
const host = {
  hasDevice: existsSync('/dev/kvm'),
  canOpenDevice: canReadWrite('/dev/kvm'),
  kvmIntel: existsSync('/sys/module/kvm_intel'),
  kvmAmd: existsSync('/sys/module/kvm_amd'),
  kvmPvm: existsSync('/sys/module/kvm_pvm'),
};
const isPvmOnlyHost = host.kvmPvm && !host.kvmIntel && !host.kvmAmd;

/** Why a host-dependent test cannot run here, printed in its name; '' when it can. */
function skipReason(needs: { pvmOnly?: boolean; vendorModule?: boolean }): string {
  if (!host.hasDevice) return ' (skipped: /dev/kvm does not exist here)';
  if (!host.canOpenDevice) return ' (skipped: /dev/kvm is not readable and writable here)';
  if (needs.pvmOnly && !isPvmOnlyHost) return ' (skipped: this host is not kvm_pvm-only)';
  if (needs.vendorModule && !host.kvmIntel && !host.kvmAmd)
    return ' (skipped: neither kvm_intel nor kvm_amd is loaded here)';
  return '';
}

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
const [releasePath] = listNativeCandidatePaths({});

// The addon without the TS wrapper, to show its own argument guards.
const rawAddon = createRequire(import.meta.url)(releasePath as string) as Record<
  string,
  (...args: unknown[]) => unknown
>;

// Larger than PID_MAX_LIMIT (4194304), so no process ever has it.
const IMPOSSIBLE_PID = 4_194_305;
const PAGE_BYTES = 4096;
const MIB = 1024 * 1024;

// Resources a test opened; closed after each test even when it fails.
const openFds: number[] = [];
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fd of openFds.splice(0)) closeSync(fd);
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function createArea(sizeBytes: number, fill?: number): number {
  const fd = native.memfdCreate('baton-test', sizeBytes);
  openFds.push(fd);
  if (fill !== undefined) native.memfdWrite(fd, 0, Buffer.alloc(sizeBytes, fill));
  return fd;
}

function spawnSleep(seconds: number): ChildProcess & { pid: number } {
  const child = spawn('sleep', [String(seconds)], { detached: false, stdio: 'ignore' });
  cleanups.push(() => child.kill('SIGKILL'));
  if (child.pid === undefined) throw new Error('spawning sleep failed');
  return child as ChildProcess & { pid: number };
}

// Node exposes the fd of a unix or TCP socket on its libuv handle.
function socketFd(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error(`socket has no fd: ${String(fd)}`);
  return fd;
}

// A server on `listenArgs` and one client connected to it; returns both ends once connected.
async function connectPair(
  ...listenArgs: [string] | [number, string]
): Promise<{ server: Socket; client: Socket }> {
  const server: Server = createServer();
  cleanups.push(() => server.close());
  server.listen(...(listenArgs as [number, string]));
  await once(server, 'listening');
  const address = server.address();
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client =
    typeof address === 'string' || address === null
      ? createConnection(listenArgs[0] as string)
      : createConnection(address.port, address.address);
  cleanups.push(() => client.destroy());
  await once(client, 'connect');
  const [serverSide] = await accepted;
  cleanups.push(() => serverSide.destroy());
  return { server: serverSide, client };
}

describe('the real addon', () => {
  test('exports exactly the functions the contract declares', () => {
    expect(Object.keys(rawAddon).sort()).toEqual([...NATIVE_EXPORT_NAMES].sort());
    for (const name of NATIVE_EXPORT_NAMES) expect(typeof rawAddon[name]).toBe('function');
  });

  test('rejects a non-string device path in C++ with ERR_INVALID_ARG_TYPE', () => {
    expect(() => rawAddon.probeKvm?.(42)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  test('rejects wrong argument types and values in C++ with TypeError, before any syscall', () => {
    const fd = createArea(PAGE_BYTES);
    expect(() => rawAddon.memfdRead?.(fd, -1, 4)).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: 'memfdRead: offsetBytes must be an integer from 0 to 9007199254740991, got -1',
      }),
    );
    expect(() => rawAddon.memfdWrite?.(fd, 0, 'text')).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => rawAddon.punchHole?.(fd, 0, 0)).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => rawAddon.watchProcess?.(process.pid, 'not a function')).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });
});

describe('watchProcess', () => {
  test('calls onExit once, within moments of a child process exiting', async () => {
    const startedAt = performance.now();
    const child = spawnSleep(0.2);
    const exitEventAt = once(child, 'exit').then(() => performance.now());
    const onExit = vi.fn();
    const onExitAt = new Promise<number>((resolve) => {
      native.watchProcess(child.pid, () => {
        onExit();
        resolve(performance.now());
      });
    });
    const [exitAt, calledAt] = await Promise.all([exitEventAt, onExitAt]);
    expect(calledAt - startedAt).toBeGreaterThan(150); // not before sleep 0.2 can have exited
    expect(Math.abs(calledAt - exitAt)).toBeLessThan(1000); // typically well under 50 ms
    await delay(50);
    expect(onExit).toHaveBeenCalledTimes(1);
  });

  test('calls onExit at once for a process that exited but is not reaped yet', async () => {
    // sh starts a short sleep in the background, prints its pid and becomes a long sleep that
    // never reaps it: the short sleep stays a zombie after it exits.
    const parent = spawn('sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 10'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    cleanups.push(() => parent.kill('SIGKILL'));
    const [line] = (await once(parent.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
    const zombiePid = Number(line.toString().trim());
    await delay(300);
    expect(readFileSync(`/proc/${zombiePid}/stat`, 'utf8')).toMatch(/^\d+ \(sleep\) Z /);
    const watchedAt = performance.now();
    await new Promise<void>((resolve) => native.watchProcess(zombiePid, resolve));
    expect(performance.now() - watchedAt).toBeLessThan(1000);
  });

  test('throws NativeError ESRCH for a pid no process has', () => {
    const error = (() => {
      try {
        native.watchProcess(IMPOSSIBLE_PID, () => {});
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(NativeError);
    expect(error).toMatchObject({
      code: 'ESRCH',
      syscall: 'pidfd_open',
      errno: -osConstants.errno.ESRCH,
      message: `Watching process ${IMPOSSIBLE_PID} failed: ESRCH (no such process)`,
    });
  });

  test('never calls onExit after close(), and close() can be called again', async () => {
    const child = spawnSleep(0.1);
    const onExit = vi.fn();
    const watch = native.watchProcess(child.pid, onExit);
    watch.close();
    watch.close();
    await once(child, 'exit');
    await delay(100);
    expect(onExit).not.toHaveBeenCalled();
  });

  test('close() after onExit ran is a no-op', async () => {
    const child = spawnSleep(0.05);
    let watch: { close(): void } | undefined;
    await new Promise<void>((resolve) => {
      watch = native.watchProcess(child.pid, resolve);
    });
    expect(() => watch?.close()).not.toThrow();
  });

  test('does not keep Node running on its own', () => {
    // The child watches this (long-lived) process and has nothing else to do: it must exit at once.
    const script = `require(${JSON.stringify(releasePath)}).watchProcess(process.ppid, () => process.exit(3));`;
    const startedAt = performance.now();
    expect(() =>
      execFileSync(process.execPath, ['-e', script], { timeout: 5000, stdio: 'pipe' }),
    ).not.toThrow();
    expect(performance.now() - startedAt).toBeLessThan(5000);
  });

  test('rejects a bad pid or onExit with TypeError naming the argument', () => {
    expect(() => native.watchProcess(0, () => {})).toThrow(
      new TypeError('watchProcess: pid must be an integer from 1 to 2147483647, got 0'),
    );
    expect(() => native.watchProcess(1.5, () => {})).toThrow(TypeError);
    expect(() => native.watchProcess(process.pid, 'x' as unknown as () => void)).toThrow(
      new TypeError('watchProcess: onExit must be a function, got "x"'),
    );
  });
});

describe('peerCredentials', () => {
  test('reads this process as the peer on both ends of a unix socket connection', async () => {
    const { server, client } = await connectPair(join(tempDir, 'peer.sock'));
    const self = { pid: process.pid, uid: process.getuid?.(), gid: process.getgid?.() };
    expect(native.peerCredentials(socketFd(server))).toEqual(self);
    expect(native.peerCredentials(socketFd(client))).toEqual(self);
  });

  test('throws NativeError NO_PEER_CREDENTIALS for a TCP socket', async () => {
    const { server } = await connectPair(0, '127.0.0.1');
    const fd = socketFd(server);
    expect(() => native.peerCredentials(fd)).toThrow(
      expect.objectContaining({
        name: 'NativeError',
        code: NATIVE_ERROR_CODES.noPeerCredentials,
        message: `Reading the peer credentials of fd ${fd} failed: it has none (not a connected unix socket)`,
      }),
    );
  });

  test('throws NativeError ENOTSOCK for a memfd', () => {
    const fd = createArea(PAGE_BYTES);
    expect(() => native.peerCredentials(fd)).toThrow(
      expect.objectContaining({
        name: 'NativeError',
        code: 'ENOTSOCK',
        syscall: 'getsockopt',
        errno: -osConstants.errno.ENOTSOCK,
      }),
    );
  });

  test('rejects a bad fd with TypeError', () => {
    expect(() => native.peerCredentials(-1)).toThrow(
      new TypeError('peerCredentials: fd must be a file descriptor (0 to 2147483647), got -1'),
    );
  });
});

describe('memfd areas', () => {
  test('memfdCreate makes a close-on-exec memfd of the given size that reads zeros', () => {
    const fd = createArea(64 * 1024);
    expect(fstatSync(fd).size).toBe(64 * 1024);
    expect(readlinkSync(`/proc/self/fd/${fd}`)).toBe('/memfd:baton-test (deleted)');
    expect(native.memfdRead(fd, 0, 64 * 1024).equals(Buffer.alloc(64 * 1024))).toBe(true);
  });

  test('memfdWrite and memfdRead round-trip bytes at an offset', () => {
    const fd = createArea(4 * PAGE_BYTES);
    const data = Buffer.from('canary 0123456789 '.repeat(300));
    native.memfdWrite(fd, PAGE_BYTES + 3, data);
    expect(native.memfdRead(fd, PAGE_BYTES + 3, data.length)).toEqual(data);
    native.memfdWrite(fd, 0, new Uint8Array([1, 2, 3]));
    expect([...native.memfdRead(fd, 0, 4)]).toEqual([1, 2, 3, 0]);
  });

  test('memfdRead stops at the end of the file', () => {
    const fd = createArea(PAGE_BYTES);
    expect(native.memfdRead(fd, PAGE_BYTES - 10, 100)).toHaveLength(10);
    expect(native.memfdRead(fd, PAGE_BYTES + 10, 100)).toHaveLength(0);
  });

  test('punchHole makes the range read zeros and frees it, while the size stays', async () => {
    const fd = createArea(4 * PAGE_BYTES, 0xab);
    const before = fstatSync(fd);
    await native.punchHole(fd, PAGE_BYTES, 2 * PAGE_BYTES);
    const after = fstatSync(fd);
    expect(after.size).toBe(before.size);
    expect(after.blocks).toBeLessThan(before.blocks);
    expect(native.memfdRead(fd, 0, PAGE_BYTES).equals(Buffer.alloc(PAGE_BYTES, 0xab))).toBe(true);
    expect(native.memfdRead(fd, PAGE_BYTES, 2 * PAGE_BYTES).equals(Buffer.alloc(2 * PAGE_BYTES))).toBe(true);
    expect(native.memfdRead(fd, 3 * PAGE_BYTES, PAGE_BYTES).equals(Buffer.alloc(PAGE_BYTES, 0xab))).toBe(
      true,
    );
  });

  test('scrubArea zeroes an unaligned multi-MiB range and leaves its neighbours', async () => {
    const fd = createArea(4 * MIB, 0xcd);
    const offsetBytes = 100;
    const lengthBytes = 2 * MIB + 50;
    await native.scrubArea(fd, offsetBytes, lengthBytes);
    expect(native.memfdRead(fd, 0, offsetBytes).equals(Buffer.alloc(offsetBytes, 0xcd))).toBe(true);
    expect(native.memfdRead(fd, offsetBytes, lengthBytes).equals(Buffer.alloc(lengthBytes))).toBe(true);
    const end = offsetBytes + lengthBytes;
    expect(native.memfdRead(fd, end, 4 * MIB - end).equals(Buffer.alloc(4 * MIB - end, 0xcd))).toBe(true);
    expect(fstatSync(fd).size).toBe(4 * MIB);
  });

  test('reject with NativeError carrying code, syscall and errno when the syscall fails', async () => {
    const file = join(tempDir, 'read-only-area');
    writeFileSync(file, Buffer.alloc(PAGE_BYTES, 1));
    const fd = openSync(file, 'r');
    openFds.push(fd);
    const ebadf = { name: 'NativeError', code: 'EBADF', errno: -osConstants.errno.EBADF };
    await expect(native.scrubArea(fd, 0, PAGE_BYTES)).rejects.toMatchObject({
      ...ebadf,
      syscall: 'fallocate',
      message: `Punching a hole in bytes [0, 4096) of fd ${fd} failed: EBADF (bad file descriptor)`,
    });
    await expect(native.punchHole(fd, 0, PAGE_BYTES)).rejects.toBeInstanceOf(NativeError);
    expect(() => native.memfdWrite(fd, 0, Buffer.from('x'))).toThrow(
      expect.objectContaining({ ...ebadf, syscall: 'pwrite' }),
    );
    expect(() => native.memfdCreate('n'.repeat(300), 0)).toThrow(
      expect.objectContaining({ name: 'NativeError', code: 'EINVAL', syscall: 'memfd_create' }),
    );
  });

  test('reject bad arguments with TypeError naming the argument', async () => {
    const fd = createArea(PAGE_BYTES);
    expect(() => native.memfdCreate(42 as unknown as string, 0)).toThrow(
      new TypeError('memfdCreate: name must be a string, got 42'),
    );
    expect(() => native.memfdCreate('area', -1)).toThrow(
      new TypeError('memfdCreate: sizeBytes must be a non-negative safe integer, got -1'),
    );
    expect(() => native.memfdWrite(fd, 1.5, Buffer.from('x'))).toThrow(
      new TypeError('memfdWrite: offsetBytes must be a non-negative safe integer, got 1.5'),
    );
    expect(() => native.memfdWrite(fd, 0, 'text' as unknown as Buffer)).toThrow(
      new TypeError('memfdWrite: data must be a Buffer or Uint8Array, got "text"'),
    );
    expect(() => native.memfdRead(fd, 2 ** 53, 1)).toThrow(
      new TypeError('memfdRead: offsetBytes must be a non-negative safe integer, got 9007199254740992'),
    );
    expect(() => native.memfdRead(fd, 0, Number.NaN)).toThrow(
      /^memfdRead: lengthBytes must be a non-negative/,
    );
    await expect(native.punchHole(fd, 0, 0)).rejects.toThrow(
      new TypeError('punchHole: lengthBytes must be a positive safe integer, got 0'),
    );
    await expect(native.scrubArea(fd, -4096, PAGE_BYTES)).rejects.toThrow(
      new TypeError('scrubArea: offsetBytes must be a non-negative safe integer, got -4096'),
    );
    await expect(native.scrubArea(fd, 0, 10n as unknown as number)).rejects.toThrow(
      new TypeError('scrubArea: lengthBytes must be a positive safe integer, got 10n'),
    );
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

  test.runIf(skipReason({ pvmOnly: true }) === '')(
    `says a kvm_pvm-only host is not usable and why${skipReason({ pvmOnly: true })}`,
    async () => {
      const probe = await native.probeKvm();
      expect(probe).toMatchObject({ present: true, openable: true, apiVersion: 12, usable: false });
      expect(probe.reason).toContain('served by kvm_pvm');
      expect(probe.reason).toContain('neither kvm_intel nor kvm_amd is loaded');
    },
  );

  test.runIf(skipReason({ vendorModule: true }) === '')(
    `says a host with kvm_intel or kvm_amd is usable and names the module${skipReason({ vendorModule: true })}`,
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
    const binding = Object.fromEntries(
      NATIVE_EXPORT_NAMES.map((name) => [name, () => Promise.reject(new Error('not called'))]),
    ) as unknown as NativeBinding;
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
