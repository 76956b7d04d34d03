// The config's leaf validators one by one: what each accepts, what it refuses and what it says it expected.
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  absolutePath,
  argument,
  filePath,
  flag,
  isGuestPath,
  kernelCmdline,
  loopbackAddress,
  MAX_SIZE_BYTES,
  oneOf,
  ownerSpec,
  port,
  size,
  toSizeBytes,
  unitName,
  vmName,
  wholeNumber,
} from '../../../src/config/fields.js';
import { GiB, MiB } from '../../../src/units.js';

/** The value a validator gives, or `expected: <what it said>`. */
function check(schema: z.ZodType, input: unknown): unknown {
  const parsed = schema.safeParse(input);
  return parsed.success ? parsed.data : `expected: ${parsed.error.issues[0]?.message}`;
}

describe('sizes', () => {
  it('reads text with a unit or whole bytes, and nothing else', () => {
    expect([toSizeBytes('512MiB'), toSizeBytes(' 2 GiB '), toSizeBytes(4096), toSizeBytes(0)]).toEqual([
      512 * MiB,
      2 * GiB,
      4096,
      0,
    ]);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53, '12XB', '-1MiB', '1.5GiB', '', null, {}, ['1']])
      expect(toSizeBytes(bad), String(bad)).toBeUndefined();
  });

  it('refuses sizes above 16 TiB and, when positive, zero, each saying what it expected', () => {
    expect(check(size('128MiB'), '16384GiB')).toBe(MAX_SIZE_BYTES);
    expect(check(size('128MiB'), '16385GiB')).toBe('expected: a size of at most 16384GiB');
    expect(check(size('128MiB'), 'lots')).toBe('expected: a size like 128MiB');
    expect(check(size('128MiB'), 0)).toBe(0);
    expect(check(size('128MiB', { isPositive: true }), '0MiB')).toBe('expected: a size above zero');
  });
});

describe('numbers, ports and flags', () => {
  it('takes whole numbers in range only, never numeric text', () => {
    const ms = wholeNumber(10, 100, 'milliseconds');
    expect([check(ms, 10), check(ms, 100)]).toEqual([10, 100]);
    for (const bad of [9, 101, 50.5, '50', Number.POSITIVE_INFINITY])
      expect(check(ms, bad)).toBe('expected: a whole number of milliseconds from 10 to 100');
    expect(check(wholeNumber(1, 2), 3)).toBe('expected: a whole number from 1 to 2');
  });

  it('takes ports 1-65535, and 0 only when any free port is allowed', () => {
    expect(check(port(), 0)).toBe('expected: a port number from 1 to 65535');
    expect(check(port(), 65536)).toBe('expected: a port number from 1 to 65535');
    expect(check(port({ isZeroAllowed: true }), 0)).toBe(0);
    expect(check(port({ isZeroAllowed: true }), -1)).toBe(
      'expected: a port number from 1 to 65535, or 0 for any free port',
    );
  });

  it('takes only real booleans as flags', () => {
    expect([check(flag(), true), check(flag(), 'true'), check(flag(), 1)]).toEqual([
      true,
      'expected: true or false',
      'expected: true or false',
    ]);
  });

  it('lists the words it knows, and says when a word is known but not implemented yet', () => {
    const mechanism = oneOf(['virtio-mem', 'balloon'], ['dimm']);
    expect(check(mechanism, 'balloon')).toBe('balloon');
    expect(check(mechanism, 'dimm')).toBe(
      "expected: one of virtio-mem, balloon ('dimm' is not implemented yet)",
    );
    expect(check(mechanism, 'other')).toBe('expected: one of virtio-mem, balloon');
    expect(check(oneOf(['tcg']), 'kvm')).toBe('expected: tcg');
  });
});

describe('names and paths', () => {
  it('takes VM names that start with a letter, up to 32 characters', () => {
    expect(check(vmName(), 'vm-a')).toBe('vm-a');
    for (const bad of ['1vm', 'VM-A', 'a'.repeat(33), 'vm_a', '', 'vm a'])
      expect(check(vmName(), bad)).toMatch(/^expected: a VM name/);
  });

  it('takes absolute host paths without .. parts or NUL, at most 4096 bytes', () => {
    expect(check(absolutePath(), '/var/lib/baton..x')).toBe('/var/lib/baton..x');
    for (const bad of ['relative', '/a/../b', '/a\0b', `/${'x'.repeat(4096)}`, 3])
      expect(check(absolutePath(), bad)).toBe("expected: an absolute path without '..'");
  });

  it('takes relative or absolute file paths, refusing empty, NUL and over 4096 bytes (counted in bytes)', () => {
    expect(check(filePath(), '../img/base.qcow2')).toBe('../img/base.qcow2');
    for (const bad of ['', 'a\0', 'é'.repeat(2049)])
      expect(check(filePath(), bad)).toBe('expected: a file path (absolute, or relative to the config file)');
  });

  it('takes guest paths the agent would take: absolute, not /, no .., no control characters, 256 bytes', () => {
    expect(isGuestPath('/usr/bin/redis-server')).toBe(true);
    expect(isGuestPath(`/${'x'.repeat(255)}`)).toBe(true);
    for (const bad of ['/', 'usr/bin/x', '/a/../b', '/a\tb', '/a\x7fb', `/${'x'.repeat(256)}`, 5])
      expect(isGuestPath(bad), JSON.stringify(bad)).toBe(false);
  });
});

describe('kernel arguments and app arguments', () => {
  it('trims kernel arguments and refuses control characters or more than 1024 characters', () => {
    expect(check(kernelCmdline(), '  ro quiet ')).toBe('ro quiet');
    for (const bad of ['a\nb', 'x'.repeat(1025), 'é'])
      expect(check(kernelCmdline(), bad)).toMatch(/^expected: kernel arguments/);
  });

  it('takes an argument of at most 256 bytes, and asks to quote a number or a boolean', () => {
    expect(check(argument(), '--port=7000')).toBe('--port=7000');
    expect(check(argument(), 7000)).toBe("expected: a string (quote it: '7000')");
    expect(check(argument(), false)).toBe("expected: a string (quote it: 'false')");
    for (const bad of ['a\0', 'é'.repeat(129), null])
      expect(check(argument(), bad)).toBe('expected: a string of at most 256 bytes');
  });

  it('takes systemd service names and user[:group] owners the agent accepts', () => {
    expect(check(unitName(), 'postgresql@15-main.service')).toBe('postgresql@15-main.service');
    for (const bad of ['redis', '-x.service', 'a b.service'])
      expect(check(unitName(), bad)).toMatch(/^expected: a systemd service name/);
    expect(check(ownerSpec(), 'redis:redis')).toBe('redis:redis');
    for (const bad of ['redis:', ':redis', 'a:b:c', '-x'])
      expect(check(ownerSpec(), bad)).toMatch(/^expected: user or user:group/);
  });
});

describe('loopback listen addresses', () => {
  it.each([
    ['127.0.0.1:9100', { host: '127.0.0.1', port: 9100 }],
    ['127.1.2.3:1', { host: '127.1.2.3', port: 1 }],
    ['[::1]:65535', { host: '::1', port: 65535 }],
    ['localhost:9100', { host: 'localhost', port: 9100 }],
  ])('takes %s', (text, value) => {
    expect(check(loopbackAddress(), text)).toEqual(value);
  });

  it.each([
    '0.0.0.0:9100',
    '10.0.0.1:9100',
    '127.0.0.256:9100',
    '127.00.0.1:9100',
    '127.0.0.1:0',
    '127.0.0.1:65536',
    '127.0.0.1',
    '::1:9100',
    'localhost:9100 ',
    9100,
  ])('refuses %s', (input) => {
    expect(check(loopbackAddress(), input)).toBe('expected: a loopback address and port like 127.0.0.1:9100');
  });
});
