import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/load.js';
import { configWith, minimalFile, problemsWith } from './fixtures.js';

describe('config: vms.image', () => {
  it('defaults to the built-in kernel and initramfs', () => {
    expect(configWith({}).vms.image).toEqual({ kind: 'builtin' });
    expect(configWith({ 'vms.image': 'builtin' }).vms.image).toEqual({ kind: 'builtin' });
  });

  it('resolves relative paths against the config file folder', () => {
    const text = stringify({
      ...minimalFile(),
      vms: { image: { disk: '../images/base.qcow2', kernel: 'k/vmlinuz', initrd: '/abs/initrd.img' } },
    });
    expect(parseConfig(text, '/etc/baton/pair.yaml').vms.image).toEqual({
      kind: 'disk',
      diskPath: '/etc/images/base.qcow2',
      kernelPath: '/etc/baton/k/vmlinuz',
      initrdPath: '/abs/initrd.img',
      isFirmwareBoot: false,
    });
  });

  it('keeps a cmdline and a firmware flag', () => {
    expect(
      configWith({ 'vms.image': { disk: '/d.raw', cmdline: ' root=LABEL=root ro ' } }).vms.image,
    ).toEqual({
      kind: 'disk',
      diskPath: '/d.raw',
      cmdline: 'root=LABEL=root ro',
      isFirmwareBoot: false,
    });
    expect(configWith({ 'vms.image': { disk: '/d.raw', firmware: true } }).vms.image).toEqual({
      kind: 'disk',
      diskPath: '/d.raw',
      isFirmwareBoot: true,
    });
  });

  it.each([
    ['debian', "vms.image: expected builtin or a mapping with disk, got 'debian'"],
    [3, 'vms.image: expected builtin or a mapping with disk, got 3'],
    [{ disk: 5 }, 'vms.image.disk: expected a file path (absolute, or relative to the config file), got 5'],
    [
      { disk: '' },
      'vms.image.disk: expected a file path (absolute, or relative to the config file), got an empty string',
    ],
    [
      { kernel: '/k' },
      'vms.image.disk: expected a file path (absolute, or relative to the config file), got nothing',
    ],
    [{ disk: '/d', firmware: 'yes' }, "vms.image.firmware: expected true or false, got 'yes'"],
    [
      { disk: '/d', cmdline: 'a\nb' },
      "vms.image.cmdline: expected kernel arguments: printable ASCII on one line, at most 1024 characters, got 'a\\nb'",
    ],
    [{ disk: '/d', kernal: '/k' }, "vms.image.kernal: unknown key (did you mean 'kernel'?)"],
  ])('refuses %o in one line', (value, message) => {
    expect(problemsWith({ 'vms.image': value })).toEqual([`baton.yaml: ${message}`]);
  });
});
