import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseProcStatCpuTicks, readProcessCpuTicks } from '../../../src/detect/process-cpu.js';

// Fields 14 and 15 (utime 812, stime 97) of a QEMU stat line whose comm holds a space and a ')'.
const STAT_LINE =
  '4242 (qemu) sys x) S 1 4242 4242 0 -1 4194560 51000 0 12 0 812 97 0 0 20 0 7 0 1234 2147483648 60000 18446744073709551615';

let procRoot: string | undefined;
afterEach(async () => {
  if (procRoot !== undefined) await rm(procRoot, { recursive: true, force: true });
  procRoot = undefined;
});

describe('process CPU ticks', () => {
  it('adds utime and stime, counting fields from the last parenthesis', () => {
    expect(parseProcStatCpuTicks(STAT_LINE)).toBe(812 + 97);
  });

  it('returns undefined for text that is not a stat line', () => {
    expect(parseProcStatCpuTicks('')).toBeUndefined();
    expect(parseProcStatCpuTicks('4242 (qemu) S 1')).toBeUndefined();
  });

  it('reads the stat file of a pid under the proc root', async () => {
    procRoot = await mkdtemp(join(tmpdir(), 'baton-proc-'));
    await mkdir(join(procRoot, '4242'));
    await writeFile(join(procRoot, '4242', 'stat'), `${STAT_LINE}\n`);
    await expect(readProcessCpuTicks(4242, procRoot)).resolves.toBe(909);
  });

  it('returns undefined for a process that is gone', async () => {
    procRoot = await mkdtemp(join(tmpdir(), 'baton-proc-'));
    await expect(readProcessCpuTicks(4242, procRoot)).resolves.toBeUndefined();
  });

  it('reads this process from the real /proc', async () => {
    const ticks = await readProcessCpuTicks(process.pid);
    expect(Number.isSafeInteger(ticks)).toBe(true);
  });
});
