import { describe, expect, it } from 'vitest';
import { formatBytes, formatMs, GiB, isAligned, MiB, parseSizeBytes } from '../../src/units.js';

describe('units', () => {
  it.each([
    ['512MiB', 512 * MiB],
    ['2G', 2 * GiB],
    ['2gib', 2 * GiB],
    ['4096', 4096],
    [' 1 KiB ', 1024],
  ])('parses %s', (text, bytes) => {
    expect(parseSizeBytes(text)).toBe(bytes);
  });

  it.each(['', '1.5GiB', '-1M', '12 parsecs', 'MiB'])('refuses %o with a message that quotes it', (text) => {
    expect(() => parseSizeBytes(text)).toThrow(`got '${text}'`);
  });

  it('prints sizes in GiB when whole, else MiB', () => {
    expect(formatBytes(2 * GiB)).toBe('2 GiB');
    expect(formatBytes(160 * MiB)).toBe('160 MiB');
    expect(formatBytes(1.5 * MiB)).toBe('1.5 MiB');
    expect(formatBytes(0)).toBe('0 MiB');
    expect(formatBytes(512)).toBe('512 B');
  });

  it('checks block alignment and prints durations', () => {
    expect(isAligned(4 * MiB, 2 * MiB)).toBe(true);
    expect(isAligned(3 * MiB, 2 * MiB)).toBe(false);
    expect(formatMs(850.4)).toBe('850 ms');
    expect(formatMs(4200)).toBe('4.2 s');
  });
});
