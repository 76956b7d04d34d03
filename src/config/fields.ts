// Leaf validators of the config file (sizes, whole numbers, names, paths, addresses); each says what it expects.
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { GiB, parseSizeBytes } from '../units.js';

/** The largest size any field accepts (16 TiB): far above any host, and sums of sizes stay exact. */
export const MAX_SIZE_BYTES = 16384 * GiB;

/**
 * Every issue these validators raise carries, as its message, only what was expected
 * (`a size like 128MiB`); the loader adds the file, the path and what was found.
 */
function leaf<T>(check: (value: unknown) => { value: T } | { expected: string }) {
  return z.unknown().transform((input, ctx): T => {
    const result = check(input);
    if ('value' in result) return result.value;
    ctx.addIssue({ code: 'custom', message: result.expected });
    return z.NEVER;
  });
}

/** Bytes from `512MiB`-style text or a whole number of bytes; undefined when it is neither. */
export function toSizeBytes(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  if (typeof input !== 'string') return undefined;
  try {
    return parseSizeBytes(input);
  } catch {
    return undefined; // The caller reports the input with what it expected.
  }
}

/** A size as text (`96MiB`, `2GiB`) or whole bytes; `isPositive` refuses zero. */
export function size(example: string, options: { isPositive?: boolean } = {}) {
  return leaf((input) => {
    const bytes = toSizeBytes(input);
    if (bytes === undefined) return { expected: `a size like ${example}` };
    if (bytes > MAX_SIZE_BYTES) return { expected: 'a size of at most 16384GiB' };
    if (options.isPositive === true && bytes === 0) return { expected: 'a size above zero' };
    return { value: bytes };
  });
}

/** A whole number in [min, max]; `unit` names what it counts (`milliseconds`). */
export function wholeNumber(min: number, max: number, unit?: string) {
  const what = unit === undefined ? 'a whole number' : `a whole number of ${unit}`;
  return leaf((input) =>
    typeof input === 'number' && Number.isInteger(input) && input >= min && input <= max
      ? { value: input }
      : { expected: `${what} from ${min} to ${max}` },
  );
}

/** A duration in whole milliseconds. */
export function durationMs(min: number, max: number) {
  return wholeNumber(min, max, 'milliseconds');
}

/** A TCP port; `isZeroAllowed` for "any free port". */
export function port(options: { isZeroAllowed?: boolean } = {}) {
  const min = options.isZeroAllowed === true ? 0 : 1;
  const expected =
    min === 0 ? 'a port number from 1 to 65535, or 0 for any free port' : 'a port number from 1 to 65535';
  return leaf((input) =>
    typeof input === 'number' && Number.isInteger(input) && input >= min && input <= 65535
      ? { value: input }
      : { expected },
  );
}

export function flag() {
  return leaf((input) => (typeof input === 'boolean' ? { value: input } : { expected: 'true or false' }));
}

/** One of a fixed set of words; `notYet` lists words known but not implemented yet. */
export function oneOf<const T extends string>(words: readonly T[], notYet: readonly string[] = []) {
  const list = words.length === 1 ? `${words[0]}` : `one of ${words.join(', ')}`;
  return leaf((input) => {
    if (words.includes(input as T)) return { value: input as T };
    if (notYet.includes(input as string)) return { expected: `${list} ('${input}' is not implemented yet)` };
    return { expected: list };
  });
}

/** A string matching `pattern`, described as `expected`. */
export function matching(pattern: RegExp, expected: string) {
  return leaf((input) =>
    typeof input === 'string' && pattern.test(input) ? { value: input } : { expected },
  );
}

export const VM_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
export const APP_NAME_PATTERN = /^[a-z0-9-]{1,32}$/;

export const vmName = () =>
  matching(VM_NAME_PATTERN, "a VM name: 1-32 lowercase letters, digits and '-', starting with a letter");
export const appName = () =>
  matching(APP_NAME_PATTERN, "an app name: 1-32 lowercase letters, digits and '-'");

/** An absolute path without NUL bytes or `..` parts. */
export function absolutePath() {
  return leaf((input) =>
    typeof input === 'string' &&
    isAbsolute(input) &&
    !input.includes('\0') &&
    !input.split('/').includes('..') &&
    input.length <= 4096
      ? { value: input }
      : { expected: "an absolute path without '..'" },
  );
}

/** A host file path, absolute or relative (to the config file's folder): not empty, no NUL. */
export function filePath() {
  return leaf((input) =>
    typeof input === 'string' && input !== '' && !input.includes('\0') && Buffer.byteLength(input) <= 4096
      ? { value: input }
      : { expected: 'a file path (absolute, or relative to the config file)' },
  );
}

/** Kernel arguments: printable ASCII on one line, at most 1024 bytes (baton appends its own). */
export function kernelCmdline() {
  return leaf((input) =>
    typeof input === 'string' && /^[\x20-\x7e]*$/.test(input) && input.length <= 1024
      ? { value: input.trim() }
      : { expected: 'kernel arguments: printable ASCII on one line, at most 1024 characters' },
  );
}

/** One argument of an app's argv (the guest agent's limits: at most 256 bytes, no NUL). */
export function argument() {
  return leaf((input) => {
    if (typeof input === 'number' || typeof input === 'boolean')
      return { expected: `a string (quote it: '${input}')` };
    if (typeof input !== 'string' || input.includes('\0') || Buffer.byteLength(input) > 256)
      return { expected: 'a string of at most 256 bytes' };
    return { value: input };
  });
}

/** A path in the guest (the agent's rules): absolute, not `/` alone, no `..` part, no control characters, at most 256 bytes. */
export function isGuestPath(input: unknown): input is string {
  return (
    typeof input === 'string' &&
    input.startsWith('/') &&
    input !== '/' &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    !/[\x00-\x1f\x7f]/.test(input) &&
    !input.split('/').includes('..') &&
    Buffer.byteLength(input) <= 256
  );
}

/** A program or directory in the guest: an absolute path without '..' (see isGuestPath). */
export function guestPath() {
  return leaf((input) =>
    isGuestPath(input)
      ? { value: input }
      : { expected: "an absolute path in the guest without '..' (at most 256 bytes)" },
  );
}

/** The program an app runs: any absolute path in the guest. */
export const program = guestPath;

/** A user or group name in the guest (the agent's rule). */
export const accountName = () =>
  matching(/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}$/, 'a user or group name: 1-32 of A-Z a-z 0-9 _ . -');

/** A systemd service name (the agent's rule). */
export const unitName = () =>
  matching(
    /^[A-Za-z0-9:_@\\][A-Za-z0-9:_.@\\-]{0,246}\.service$/,
    'a systemd service name like redis-server.service or postgresql@15-main.service',
  );

/** `user` or `user:group`. */
export const ownerSpec = () =>
  matching(
    /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31})?$/,
    'user or user:group (names of 1-32 of A-Z a-z 0-9 _ . -)',
  );

export interface ListenAddress {
  host: string;
  port: number;
}

/** `127.0.0.1:9100`, `[::1]:9100` or `localhost:9100`: loopback only. */
export function loopbackAddress() {
  const expected = 'a loopback address and port like 127.0.0.1:9100';
  return leaf((input): { value: ListenAddress } | { expected: string } => {
    if (typeof input !== 'string') return { expected };
    const match = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost):(\d{1,5})$/.exec(input);
    const host = match?.[1];
    const portNumber = Number(match?.[2]);
    const isIpv4Valid =
      host?.startsWith('127.') !== true ||
      host.split('.').every((part) => String(Number(part)) === part && Number(part) <= 255);
    if (host === undefined || !isIpv4Valid || portNumber < 1 || portNumber > 65535) return { expected };
    return { value: { host: host === '[::1]' ? '::1' : host, port: portNumber } };
  });
}
