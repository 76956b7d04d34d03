import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import type { BaseDisk } from '../../../src/vm/image.js';
import type { RunCommand } from '../../../src/vm/qemu-img.js';
import { decideOverlay, ensureRootOverlay, rootOverlayPaths } from '../../../src/vm/root-overlay.js';

const base: BaseDisk = {
  path: '/images/debian/base.qcow2',
  format: 'qcow2',
  sizeBytes: 700_000_000,
  mtimeMs: 1_700_000_000_000,
};

describe('decideOverlay', () => {
  it('creates an overlay when there is none, and reuses one made on the same base', () => {
    expect(decideOverlay({ isOverlayThere: false, record: undefined }, base)).toEqual({ action: 'create' });
    expect(decideOverlay({ isOverlayThere: true, record: { ...base } }, base)).toEqual({ action: 'reuse' });
  });

  it.each([
    [undefined, 'no record of the base it was made on'],
    [{ ...base, path: '/old/base.qcow2' }, 'its base was /old/base.qcow2, now /images/debian/base.qcow2'],
    [{ ...base, format: 'raw' as const }, 'its base was raw, now qcow2'],
    [
      { ...base, sizeBytes: 1 },
      'the base changed (1 bytes at 2023-11-14T22:13:20.000Z, now 700000000 bytes at 2023-11-14T22:13:20.000Z)',
    ],
    [
      { ...base, mtimeMs: 0 },
      'the base changed (700000000 bytes at 1970-01-01T00:00:00.000Z, now 700000000 bytes at 2023-11-14T22:13:20.000Z)',
    ],
  ])('recreates an overlay recorded as %o', (record, reason) => {
    expect(decideOverlay({ isOverlayThere: true, record }, base)).toEqual({ action: 'recreate', reason });
  });
});

describe('ensureRootOverlay', () => {
  let stateDir: string;
  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'baton-overlay-'));
  });
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  /** A qemu-img that writes a file where `create` is asked to, and records the argv. */
  function fakeQemuImg(): RunCommand & { calls: string[][] } {
    const calls: string[][] = [];
    const run = async (file: string, args: readonly string[]) => {
      calls.push([file, ...args]);
      writeFileSync(args.at(-1) ?? '', `overlay ${calls.length}`);
      return { stdout: '' };
    };
    return Object.assign(run, { calls });
  }

  const log = createLogger({ level: 'silent' });

  it('creates the overlay with qemu-img once, records its base, and reuses it on the next boot', async () => {
    const run = fakeQemuImg();
    const { overlayPath, recordPath } = rootOverlayPaths(stateDir, 'vm-a');
    const first = await ensureRootOverlay(stateDir, 'vm-a', base, { log, run });
    expect(first).toEqual({ overlayPath, decision: { action: 'create' } });
    expect(run.calls).toEqual([
      ['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', base.path, '-F', 'qcow2', `${overlayPath}.part`],
    ]);
    expect(statSync(overlayPath).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(recordPath, 'utf8'))).toEqual(base);
    const second = await ensureRootOverlay(stateDir, 'vm-a', base, { log, run });
    expect(second.decision).toEqual({ action: 'reuse' });
    expect(run.calls).toHaveLength(1);
    expect(readFileSync(overlayPath, 'utf8')).toBe('overlay 1');
  });

  it('replaces the overlay when the base was rebuilt, and keeps the other VM apart', async () => {
    const run = fakeQemuImg();
    await ensureRootOverlay(stateDir, 'vm-a', base, { log, run });
    await ensureRootOverlay(stateDir, 'vm-b', base, { log, run });
    const rebuilt = { ...base, mtimeMs: base.mtimeMs + 1000 };
    const again = await ensureRootOverlay(stateDir, 'vm-a', rebuilt, { log, run });
    expect(again.decision).toMatchObject({ action: 'recreate' });
    expect(readFileSync(rootOverlayPaths(stateDir, 'vm-a').overlayPath, 'utf8')).toBe('overlay 3');
    expect(readFileSync(rootOverlayPaths(stateDir, 'vm-b').overlayPath, 'utf8')).toBe('overlay 2');
  });

  it('leaves no overlay and no record when qemu-img fails', async () => {
    const failing: RunCommand = async () => {
      throw new Error('qemu-img: Could not open backing file');
    };
    await expect(ensureRootOverlay(stateDir, 'vm-a', base, { log, run: failing })).rejects.toThrow(
      'Could not open backing file',
    );
    const { overlayPath, recordPath } = rootOverlayPaths(stateDir, 'vm-a');
    expect(() => statSync(overlayPath)).toThrow();
    expect(() => statSync(recordPath)).toThrow();
  });
});
