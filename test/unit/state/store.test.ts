import { lstat, mkdir, readdir, readFile, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, StaleEpochError } from '../../../src/errors.js';
import { decodeEnvelope } from '../../../src/state/envelope.js';
import { StateStore } from '../../../src/state/store.js';
import { HISTORY_LIMIT } from '../../../src/state/types.js';
import { failoverRecord, sampleDoc, tempStateDir } from './fixtures.js';

describe('StateStore save and load', () => {
  it('loads back exactly the document it saved', async () => {
    const dir = await tempStateDir();
    await new StateStore(dir).save(sampleDoc(1));
    const loaded = await new StateStore(dir).load();
    expect(loaded).toEqual({ source: 'current', doc: sampleDoc(1), warnings: [] });
  });

  it('loads the table frozen, as every table value is', async () => {
    const dir = await tempStateDir();
    await new StateStore(dir).save(sampleDoc(1));
    const { doc } = await new StateStore(dir).load();
    expect(Object.isFrozen(doc?.table.areas[0])).toBe(true);
  });

  it('reports empty when the directory holds no state file', async () => {
    const loaded = await new StateStore(await tempStateDir()).load();
    expect(loaded).toEqual({ source: 'empty', doc: undefined, warnings: [] });
  });

  it('creates a missing state directory with mode 0700', async () => {
    const dir = join(await tempStateDir(), 'nested', 'state');
    await new StateStore(dir).save(sampleDoc(1));
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('writes state.json with mode 0600', async () => {
    const dir = await tempStateDir();
    await new StateStore(dir).save(sampleDoc(1));
    expect((await stat(join(dir, 'state.json'))).mode & 0o777).toBe(0o600);
  });

  it('writes an envelope whose checksum covers the body', async () => {
    const dir = await tempStateDir();
    await new StateStore(dir).save(sampleDoc(7));
    const text = await readFile(join(dir, 'state.json'), 'utf8');
    expect(JSON.parse(text)).toMatchObject({
      schemaVersion: 1,
      epoch: 7,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(decodeEnvelope(Buffer.from(text)).isValid).toBe(true);
  });

  it('keeps the state before the last save as state.prev.json', async () => {
    const dir = await tempStateDir();
    const store = new StateStore(dir);
    await store.save(sampleDoc(1));
    await store.save(sampleDoc(2));
    const previous = decodeEnvelope(await readFile(join(dir, 'state.prev.json')));
    expect(previous.isValid && previous.envelope.epoch).toBe(1);
  });

  it('leaves state.json and state.prev.json as separate files, with no temp file', async () => {
    const dir = await tempStateDir();
    const store = new StateStore(dir);
    await store.save(sampleDoc(1));
    await store.save(sampleDoc(2));
    expect((await readdir(dir)).sort()).toEqual(['state.json', 'state.prev.json']);
    expect((await lstat(join(dir, 'state.json'))).nlink).toBe(1);
  });

  it('keeps only the last HISTORY_LIMIT failover records', async () => {
    const dir = await tempStateDir();
    const history = Array.from({ length: HISTORY_LIMIT + 5 }, (_, i) => failoverRecord(`f-${i}`));
    await new StateStore(dir).save({ ...sampleDoc(1), history });
    const { doc } = await new StateStore(dir).load();
    expect(doc?.history.map((record) => record.id)).toEqual(history.slice(5).map((record) => record.id));
  });

  it('refuses to save a document that breaks the schema, naming the field', async () => {
    const dir = await tempStateDir();
    const doc = sampleDoc(1);
    const broken = { ...doc, table: { ...doc.table, budgetBytes: -1 } };
    await expect(new StateStore(dir).save(broken)).rejects.toThrow(InvalidInputError);
    await expect(new StateStore(dir).save(broken)).rejects.toThrow(/table\.budgetBytes/);
  });
});

describe('StateStore epochs', () => {
  it('refuses a save at the stored epoch', async () => {
    const dir = await tempStateDir();
    const store = new StateStore(dir);
    await store.save(sampleDoc(3));
    await expect(store.save(sampleDoc(3))).rejects.toThrow(StaleEpochError);
  });

  it('refuses a save below the stored epoch and keeps the stored state', async () => {
    const dir = await tempStateDir();
    const store = new StateStore(dir);
    await store.save(sampleDoc(3));
    await expect(store.save(sampleDoc(2))).rejects.toThrow(
      `Refusing to save state epoch 2 in ${dir}: epoch 3 is already stored`,
    );
    expect((await store.load()).doc?.epoch).toBe(3);
  });

  it('refuses a writer that fell behind another writer of the same directory', async () => {
    const dir = await tempStateDir();
    const stale = new StateStore(dir);
    await stale.save(sampleDoc(1));
    await new StateStore(dir).save(sampleDoc(5));
    await expect(stale.save(sampleDoc(2))).rejects.toMatchObject({ code: 'STALE_EPOCH', storedEpoch: 5 });
  });

  it('serializes concurrent saves: the lower epoch sent second is refused', async () => {
    const dir = await tempStateDir();
    const store = new StateStore(dir);
    const results = await Promise.allSettled([store.save(sampleDoc(2)), store.save(sampleDoc(1))]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected']);
  });
});

describe('StateStore after a step of a save fails', () => {
  it('leaves no temp file when a step after writing it fails, and keeps the stored state', async () => {
    const dir = await tempStateDir();
    const store = new StateStore(dir);
    await store.save(sampleDoc(1));
    // A directory where the previous copy's link goes: the save fails after state.json.tmp is written.
    await mkdir(join(dir, 'state.prev.json.tmp'));
    await expect(store.save(sampleDoc(2))).rejects.toThrow(/directory/);
    expect((await readdir(dir)).filter((file) => file === 'state.json.tmp')).toEqual([]);
    await rmdir(join(dir, 'state.prev.json.tmp'));
    expect(await new StateStore(dir).load()).toMatchObject({ doc: { epoch: 1 }, warnings: [] });
  });

  it('saves again once the step that failed can succeed', async () => {
    const dir = await tempStateDir();
    const store = new StateStore(dir);
    await store.save(sampleDoc(1));
    await mkdir(join(dir, 'state.prev.json.tmp'));
    await expect(store.save(sampleDoc(2))).rejects.toThrow();
    await rmdir(join(dir, 'state.prev.json.tmp'));
    await store.save(sampleDoc(2));
    expect((await readdir(dir)).sort()).toEqual(['state.json', 'state.prev.json']);
  });
});
