import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createScratchDir, SCRATCH_OWNER_FILE, scratchParent } from '../../../src/vm/scratch-dir.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-scratch-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('scratch folders', () => {
  it('live under BATON_RUN_DIR, or baton in the temp folder', () => {
    expect(scratchParent({ BATON_RUN_DIR: '/srv/runs' })).toBe('/srv/runs');
    expect(scratchParent({})).toBe(join(tmpdir(), 'baton'));
  });

  it('creates a fresh folder per call, passable by QEMU’s user but not listable, with a private owner file', async () => {
    const env = { BATON_RUN_DIR: join(dir, 'runs', 'nested') };
    const first = await createScratchDir('demo', '123 456', env);
    const second = await createScratchDir('demo', '123 456', env);
    expect(first).not.toBe(second);
    expect(dirname(first)).toBe(env.BATON_RUN_DIR);
    expect(basename(first)).toMatch(/^demo-[A-Za-z0-9]{6}$/);
    expect(readFileSync(join(first, SCRATCH_OWNER_FILE), 'utf8')).toBe('123 456\n');
    expect(statSync(join(first, SCRATCH_OWNER_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(first).mode & 0o777).toBe(0o711);
    expect(statSync(env.BATON_RUN_DIR).mode & 0o777).toBe(0o711);
  });

  it('fails when the run directory cannot be made (a file is in the way)', async () => {
    const blocked = join(dir, 'file');
    writeFileSync(blocked, '');
    await expect(
      createScratchDir('bench', '1 2', { BATON_RUN_DIR: join(blocked, 'runs') }),
    ).rejects.toMatchObject({
      code: 'ENOTDIR',
    });
  });
});
