// Through resolveBootImage see image.test.ts; here readBootJson alone, against hostile files.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBootJson } from '../../../src/vm/boot-json.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-boot-json-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const valid = { format: 'qcow2', disk: 'base.qcow2', kernel: 'vmlinuz' };
const write = (value: unknown) =>
  writeFileSync(join(dir, 'boot.json'), typeof value === 'string' ? value : JSON.stringify(value));
const refusal = (detail: string) => `Cannot boot ${join(dir, 'boot.json')}: ${detail}`;

describe('boot.json beside an image', () => {
  it('is undefined when there is none', async () => {
    await expect(readBootJson(join(dir, 'base.qcow2'))).resolves.toBeUndefined();
  });

  it('gives absolute paths in the image folder, the cmdline trimmed, and no initrd unless named', async () => {
    write({ ...valid, cmdline: '  root=LABEL=root ro  ' });
    await expect(readBootJson(join(dir, 'base.qcow2'))).resolves.toEqual({
      path: join(dir, 'boot.json'),
      format: 'qcow2',
      diskPath: join(dir, 'base.qcow2'),
      kernelPath: join(dir, 'vmlinuz'),
      cmdline: 'root=LABEL=root ro',
    });
    write({ ...valid, initrd: 'initrd.img' });
    await expect(readBootJson(join(dir, 'base.qcow2'))).resolves.toMatchObject({
      initrdPath: join(dir, 'initrd.img'),
      cmdline: '',
    });
  });

  it.each([
    ['a JSON array', [], '(the document): Invalid input: expected object, received array'],
    ['"." as a file', { ...valid, kernel: '.' }, 'kernel: a file name in the same folder'],
    ['".." as a file', { ...valid, initrd: '..' }, 'initrd: a file name in the same folder'],
    ['a NUL in a name', { ...valid, disk: 'base\0.qcow2' }, 'disk: a file name in the same folder'],
    ['an empty name', { ...valid, kernel: '' }, 'kernel: Too small: expected string to have >=1 characters'],
    [
      'a missing kernel',
      { format: 'raw', disk: 'x' },
      'kernel: Invalid input: expected string, received undefined',
    ],
    ['a tab in the cmdline', { ...valid, cmdline: 'a\tb' }, 'cmdline: printable ASCII on one line'],
  ])('refuses %s, naming the field', async (_name, value, detail) => {
    write(value);
    await expect(readBootJson(join(dir, 'base.qcow2'))).rejects.toMatchObject({
      code: 'INVALID_IMAGE',
      path: join(dir, 'boot.json'),
      message: refusal(detail),
    });
  });

  it('refuses a cmdline over 1024 characters', async () => {
    write({ ...valid, cmdline: 'x'.repeat(1025) });
    await expect(readBootJson(join(dir, 'base.qcow2'))).rejects.toThrow(/: cmdline: Too big/);
  });

  it('refuses a boot.json that is a symbolic link, even to a valid one', async () => {
    writeFileSync(join(dir, 'real.json'), JSON.stringify(valid));
    symlinkSync(join(dir, 'real.json'), join(dir, 'boot.json'));
    await expect(readBootJson(join(dir, 'base.qcow2'))).rejects.toThrow(refusal('cannot read it: ELOOP'));
  });

  it('refuses a boot.json over 64 KiB without parsing it', async () => {
    write(`${JSON.stringify(valid)}${' '.repeat(64 * 1024)}`);
    await expect(readBootJson(join(dir, 'base.qcow2'))).rejects.toThrow(
      refusal('cannot read it: larger than 65536 bytes'),
    );
  });

  it('refuses a boot.json that is a directory', async () => {
    mkdirSync(join(dir, 'boot.json'));
    await expect(readBootJson(join(dir, 'base.qcow2'))).rejects.toThrow(
      refusal('cannot read it: not a regular file'),
    );
  });

  it('accepts an image folder reached through a symlink, with its files inside it', async () => {
    const real = join(dir, 'real');
    mkdirSync(real);
    writeFileSync(join(real, 'boot.json'), JSON.stringify(valid));
    writeFileSync(join(real, 'vmlinuz'), 'kernel');
    writeFileSync(join(real, 'base.qcow2'), 'QFI');
    symlinkSync(real, join(dir, 'link'));
    await expect(readBootJson(join(dir, 'link', 'base.qcow2'))).resolves.toMatchObject({
      kernelPath: join(dir, 'link', 'vmlinuz'),
    });
  });

  it('a file not there yet in a folder reached through a symlink is in the folder, not out of it', async () => {
    const real = join(dir, 'real');
    mkdirSync(real);
    writeFileSync(join(real, 'boot.json'), JSON.stringify(valid));
    writeFileSync(join(real, 'base.qcow2'), 'QFI');
    symlinkSync(real, join(dir, 'link'));
    // The kernel is missing: the caller reports that; it is not an escape from the folder.
    await expect(readBootJson(join(dir, 'link', 'base.qcow2'))).resolves.toMatchObject({
      kernelPath: join(dir, 'link', 'vmlinuz'),
    });
  });

  it('refuses a boot.json that is a FIFO instead of waiting forever for a writer', async () => {
    const made = spawnSync('mkfifo', [join(dir, 'boot.json')]);
    if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
    await expect(readBootJson(join(dir, 'base.qcow2'))).rejects.toThrow(
      refusal('cannot read it: not a regular file'),
    );
  });
});
