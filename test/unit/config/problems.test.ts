import { describe, expect, it } from 'vitest';
import { describeValue, formatPath, formatProblems, quote, valueAt } from '../../../src/config/problems.js';

describe('config problems', () => {
  it.each([
    [['budget'], 'budget'],
    [['apps', 0, 'memory'], 'apps[0].memory'],
    [['vms', 'names', 1], 'vms.names[1]'],
    [['apps', 0, 'my key'], "apps[0]['my key']"],
    [[], ''],
  ])('prints the path %o as %s', (path, text) => {
    expect(formatPath(path)).toBe(text);
  });

  it.each([
    [undefined, 'nothing'],
    [null, 'null'],
    ['12XB', "'12XB'"],
    ['', 'an empty string'],
    [1e30, '1e+30'],
    [false, 'false'],
    [[], 'an empty list'],
    [[1, 2], 'a list of 2'],
    [{}, 'an empty mapping'],
    [{ a: 1 }, 'a mapping'],
    [new Uint8Array([1]), 'binary data'],
  ])('describes %o as %s', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });

  it('describes a number as written when the source is known', () => {
    expect(describeValue(1e30, '1e30')).toBe('1e30');
  });

  it('quotes text with control characters escaped and long text cut', () => {
    expect(quote("it's\n\u001b[2J")).toBe("'it\\'s\\n\\u001b[2J'");
    expect(quote('x'.repeat(100))).toBe(`'${'x'.repeat(60)}...'`);
  });

  it('finds values by path and nothing past a leaf', () => {
    const data = { apps: [{ memory: '1MiB' }] };
    expect(valueAt(data, ['apps', 0, 'memory'])).toBe('1MiB');
    expect(valueAt(data, ['apps', 0, 'memory', 'x'])).toBeUndefined();
    expect(valueAt(data, ['apps', 3])).toBeUndefined();
  });

  it('prefixes every line with the file, and the path when there is one', () => {
    expect(
      formatProblems('baton.yaml', [
        { path: '', message: 'expected a mapping of settings, got an empty file' },
        { path: 'budget', message: 'expected a size like 736MiB, got nothing' },
      ]),
    ).toEqual([
      'baton.yaml: expected a mapping of settings, got an empty file',
      'baton.yaml: budget: expected a size like 736MiB, got nothing',
    ]);
  });
});
