import { execFileSync } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateUnsafeError } from '../../../src/errors.js';
import {
  ensurePrivateDir,
  quarantine,
  readRegularFile,
  writeNewFileSynced,
} from '../../../src/state/durable.js';
import { tempStateDir } from './fixtures.js';

describe('durable file steps', () => {
  it('refuses a state directory that is a symbolic link', async () => {
    const base = await tempStateDir();
    await mkdir(join(base, 'real'), { mode: 0o700 });
    await symlink(join(base, 'real'), join(base, 'link'));
    await expect(ensurePrivateDir(join(base, 'link'))).rejects.toThrow(
      `Refusing to use ${join(base, 'link')}: the state directory is a symbolic link`,
    );
  });

  it('refuses to read a FIFO instead of blocking on it', async () => {
    const dir = await tempStateDir();
    execFileSync('mkfifo', [join(dir, 'state.json')]);
    await expect(readRegularFile(join(dir, 'state.json'))).rejects.toThrow(StateUnsafeError);
  });

  it('refuses to create a file over an existing one', async () => {
    const dir = await tempStateDir();
    await writeFile(join(dir, 'state.json.tmp'), 'old');
    await expect(writeNewFileSynced(join(dir, 'state.json.tmp'), 'new')).rejects.toMatchObject({
      code: 'EEXIST',
    });
  });

  it('quarantines a file under a new name without replacing an earlier one', async () => {
    const dir = await tempStateDir();
    const now = new Date('2025-01-01T00:00:00.000Z');
    await writeFile(join(dir, 'state.json'), 'first');
    const first = await quarantine(join(dir, 'state.json'), now);
    await writeFile(join(dir, 'state.json'), 'second');
    const second = await quarantine(join(dir, 'state.json'), now);
    expect([first, second]).toEqual([
      join(dir, 'state.json.corrupt-2025-01-01T00-00-00-000Z'),
      join(dir, 'state.json.corrupt-2025-01-01T00-00-00-000Z-1'),
    ]);
    expect(await readFile(first, 'utf8')).toBe('first');
  });
});
