import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MissingDependencyError } from '../../../src/errors.js';
import { createOverlay, readImageInfo, runCommand } from '../../../src/vm/qemu-img.js';
import { fakeQemuImg } from './fake-qemu-img.js';

const path = '/img/base.qcow2';
const qcow2 = { format: 'qcow2', 'virtual-size': 1 << 30 };

/** An error as execa rejects with when the program exits non-zero. */
const exited = (stderr: string) => Object.assign(new Error('Command failed with exit code 1'), { stderr });

describe('qemu-img info', () => {
  it('asks without opening the backing chain and shared with a running QEMU', async () => {
    const run = fakeQemuImg(qcow2);
    await expect(readImageInfo(path, run)).resolves.toEqual({ format: 'qcow2', virtualSizeBytes: 1 << 30 });
    expect(run.calls).toEqual([['qemu-img', 'info', '--force-share', '--output=json', path]]);
  });

  it('reports a recorded backing file and an external data file', async () => {
    const info = {
      ...qcow2,
      'backing-filename': '/etc/shadow',
      'format-specific': { type: 'qcow2', data: { 'data-file': '/dev/sda' } },
    };
    await expect(readImageInfo(path, fakeQemuImg(info))).resolves.toEqual({
      format: 'qcow2',
      virtualSizeBytes: 1 << 30,
      backingFile: '/etc/shadow',
      dataFile: '/dev/sda',
    });
  });

  it('names qemu-img’s last stderr line, without its prefix, when it fails', async () => {
    const run = fakeQemuImg(
      '',
      exited("warning: x\nqemu-img: Could not open '/img/base.qcow2': No such file\n"),
    );
    await expect(readImageInfo(path, run)).rejects.toMatchObject({
      code: 'INVALID_IMAGE',
      message: `Cannot boot ${path}: qemu-img info failed: Could not open '/img/base.qcow2': No such file`,
    });
  });

  it('cuts a long failure reason to 200 characters, and uses the message when there is no stderr', async () => {
    const long = (await readImageInfo(path, fakeQemuImg('', exited('x'.repeat(5000)))).catch(
      (e: unknown) => e,
    )) as Error;
    expect(long.message).toBe(`Cannot boot ${path}: qemu-img info failed: ${'x'.repeat(200)}`);
    const timedOut = (await readImageInfo(path, fakeQemuImg('', new Error('timed out after 30000 ms'))).catch(
      (e: unknown) => e,
    )) as Error;
    expect(timedOut.message).toBe(`Cannot boot ${path}: qemu-img info failed: timed out after 30000 ms`);
  });

  it('passes a missing qemu-img on as MissingDependencyError', async () => {
    const missing = new MissingDependencyError('qemu-img', 'install it');
    await expect(readImageInfo(path, fakeQemuImg('', missing))).rejects.toBe(missing);
  });

  it.each([
    ['not JSON', 'Image: base.qcow2', 'qemu-img info printed something that is not JSON'],
    ['a negative size', { ...qcow2, 'virtual-size': -1 }, 'qemu-img info: unexpected virtual-size'],
    ['a size past 2^53', { ...qcow2, 'virtual-size': 2 ** 60 }, 'qemu-img info: unexpected virtual-size'],
    ['a fractional size', { ...qcow2, 'virtual-size': 1.5 }, 'qemu-img info: unexpected virtual-size'],
    ['a huge format name', { ...qcow2, format: 'q'.repeat(33) }, 'qemu-img info: unexpected format'],
    [
      'a backing name over 4 KiB',
      { ...qcow2, 'backing-filename': 'b'.repeat(4097) },
      'qemu-img info: unexpected backing-filename',
    ],
    ['null', 'null', 'qemu-img info: unexpected output'],
    [
      'a data file that is not a string',
      { ...qcow2, 'format-specific': { data: { 'data-file': 7 } } },
      'qemu-img info: unexpected format-specific.data.data-file',
    ],
  ])('refuses output with %s', async (_name, info, detail) => {
    await expect(readImageInfo(path, fakeQemuImg(info))).rejects.toMatchObject({
      code: 'INVALID_IMAGE',
      message: `Cannot boot ${path}: ${detail}`,
    });
  });
});

describe('qemu-img create and the runner', () => {
  it('creates a qcow2 overlay naming the base and its format', async () => {
    const run = fakeQemuImg('');
    await createOverlay('/run/vm-a/root.qcow2', { path: '/img/base.raw', format: 'raw' }, run);
    expect(run.calls).toEqual([
      ['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', '/img/base.raw', '-F', 'raw', '/run/vm-a/root.qcow2'],
    ]);
  });

  it('the default runner says how to install a program that is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-qemu-img-'));
    try {
      await expect(runCommand(join(dir, 'qemu-img'), ['info'])).rejects.toMatchObject({
        code: 'MISSING_DEPENDENCY',
        message: `${join(dir, 'qemu-img')} is missing: install it with \`apt-get install qemu-utils\` or run \`make setup\``,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the default runner passes argv through without a shell and rejects a non-zero exit', async () => {
    await expect(runCommand('/bin/echo', ['$HOME', ';', 'x'])).resolves.toEqual({ stdout: '$HOME ; x' });
    await expect(runCommand('/bin/false', [])).rejects.toMatchObject({ exitCode: 1 });
  });
});
