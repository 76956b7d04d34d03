import { link, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeEnvelope } from '../../../src/state/envelope.js';
import { type SaveStep, StateStore } from '../../../src/state/store.js';
import { sampleDoc, tempStateDir } from './fixtures.js';

class Crash extends Error {}

/** Saves epochs 1 and 2, then epoch 3 with the save stopped right after `step`, as a crash there would. */
async function crashSaveAfter(step: SaveStep): Promise<string> {
  const dir = await tempStateDir();
  await new StateStore(dir).save(sampleDoc(1));
  await new StateStore(dir).save(sampleDoc(2));
  const crashing = new StateStore(dir, {
    onSaveStep: (reached) => {
      if (reached === step) throw new Crash(step);
    },
  });
  await expect(crashing.save(sampleDoc(3))).rejects.toThrow(Crash);
  return dir;
}

describe('StateStore after a save stopped part-way', () => {
  it.each<[SaveStep, number]>([
    ['temp-written', 2],
    ['previous-linked', 2],
    ['previous-replaced', 2],
    ['current-replaced', 3],
    ['dir-synced', 3],
  ])('stopped after %s: state.json holds epoch %i', async (step, epoch) => {
    const dir = await crashSaveAfter(step);
    const loaded = await new StateStore(dir).load();
    expect([loaded.source, loaded.doc?.epoch]).toEqual(['current', epoch]);
  });

  it.each<SaveStep>(['temp-written', 'previous-linked', 'previous-replaced', 'current-replaced'])(
    'stopped after %s: state.prev.json is still a usable copy',
    async (step) => {
      const dir = await crashSaveAfter(step);
      const store = new StateStore(dir);
      await store.load();
      await rename(join(dir, 'state.json'), join(dir, 'aside.json'));
      expect((await store.load()).source).toBe('previous');
    },
  );

  it('stopped after previous-linked: the leftover link is removed at load', async () => {
    const dir = await crashSaveAfter('previous-linked');
    const loaded = await new StateStore(dir).load();
    expect(loaded.warnings).toEqual([
      'removed state.json.tmp left by a save that did not complete',
      'removed state.prev.json.tmp left by a save that did not complete',
    ]);
    expect((await readdir(dir)).sort()).toEqual(['state.json', 'state.prev.json']);
  });

  it('saves again after a stopped save, above the epoch that reached the disk', async () => {
    const dir = await crashSaveAfter('previous-replaced');
    const store = new StateStore(dir);
    await store.load();
    await store.save(sampleDoc(3));
    expect((await store.load()).doc?.epoch).toBe(3);
  });

  it('loads the last complete state when a temp file was written by hand but never renamed', async () => {
    const dir = await tempStateDir();
    await new StateStore(dir).save(sampleDoc(1));
    await writeFile(join(dir, 'state.json.tmp'), encodeEnvelope(sampleDoc(2)), { mode: 0o600 });
    await link(join(dir, 'state.json'), join(dir, 'state.prev.json.tmp'));
    const loaded = await new StateStore(dir).load();
    expect([loaded.source, loaded.doc?.epoch]).toEqual(['current', 1]);
  });
});

describe('StateStore after the first save stopped part-way', () => {
  it('reports empty, with the temp file removed, when the first save never renamed it', async () => {
    const dir = await tempStateDir();
    const crashing = new StateStore(dir, {
      onSaveStep: () => {
        throw new Crash('temp-written');
      },
    });
    await expect(crashing.save(sampleDoc(1))).rejects.toThrow(Crash);
    const loaded = await new StateStore(dir).load();
    expect(loaded).toEqual({
      source: 'empty',
      doc: undefined,
      warnings: ['removed state.json.tmp left by a save that did not complete'],
    });
  });
});
