import { chmod, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  StateCorruptError,
  StatePhaseUnknownError,
  StateUnsafeError,
  StateVersionError,
} from '../../../src/errors.js';
import { encodeEnvelope } from '../../../src/state/envelope.js';
import type { MigrationRegistry } from '../../../src/state/migrations.js';
import { StateStore } from '../../../src/state/store.js';
import { flipBit, sampleDoc, tempStateDir, truncateFile } from './fixtures.js';

/** A directory holding epoch 1 as state.prev.json and epoch 2 as state.json. */
async function twoSaves(): Promise<string> {
  const dir = await tempStateDir();
  const store = new StateStore(dir);
  await store.save(sampleDoc(1));
  await store.save(sampleDoc(2));
  return dir;
}

describe('StateStore load of damaged state', () => {
  it('uses the previous copy when state.json is truncated, and says so', async () => {
    const dir = await twoSaves();
    await truncateFile(join(dir, 'state.json'));
    const loaded = await new StateStore(dir).load();
    expect(loaded.source).toBe('previous');
    expect(loaded.doc?.epoch).toBe(1);
    expect(loaded.warnings[0]).toBe(
      'state.json is not valid JSON (truncated?); using state.prev.json (epoch 1)',
    );
  });

  it('uses the previous copy when one bit in the middle of state.json is flipped', async () => {
    const dir = await twoSaves();
    await flipBit(join(dir, 'state.json'), { bit: 1 });
    const loaded = await new StateStore(dir).load();
    expect([loaded.source, loaded.doc?.epoch]).toEqual(['previous', 1]);
    expect(loaded.warnings[0]).toMatch(/^state\.json .+; using state\.prev\.json \(epoch 1\)$/);
  });

  it('names a checksum failure when a digit of the body changed', async () => {
    const dir = await twoSaves();
    const path = join(dir, 'state.json');
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"totalMs": 812.5', '"totalMs": 812.4'));
    const loaded = await new StateStore(dir).load();
    expect(loaded.warnings[0]).toBe('state.json failed its checksum; using state.prev.json (epoch 1)');
  });

  it('keeps the corrupt state.json for inspection under another name', async () => {
    const dir = await twoSaves();
    await truncateFile(join(dir, 'state.json'));
    const loaded = await new StateStore(dir).load();
    const kept = (await readdir(dir)).filter((file) => file.startsWith('state.json.corrupt-'));
    expect(kept).toHaveLength(1);
    expect(loaded.warnings[1]).toBe(`kept the unusable state.json as ${kept[0]} for inspection`);
  });

  it('uses the previous copy when state.json is missing', async () => {
    const dir = await twoSaves();
    await rm(join(dir, 'state.json'));
    const loaded = await new StateStore(dir).load();
    expect(loaded.warnings).toEqual(['state.json is missing; using state.prev.json (epoch 1)']);
  });

  it('throws StateCorruptError naming both files when both are corrupt, and leaves them in place', async () => {
    const dir = await twoSaves();
    await truncateFile(join(dir, 'state.json'));
    await flipBit(join(dir, 'state.prev.json'), { offset: 0 });
    const error = await new StateStore(dir).load().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StateCorruptError);
    expect((error as StateCorruptError).problems).toEqual([
      'state.json is not valid JSON (truncated?)',
      'state.prev.json is not valid JSON (truncated?)',
    ]);
    expect((await readdir(dir)).sort()).toEqual(['state.json', 'state.prev.json']);
  });

  it('refuses to save over state files that are all corrupt', async () => {
    const dir = await twoSaves();
    await truncateFile(join(dir, 'state.json'));
    await truncateFile(join(dir, 'state.prev.json'));
    await expect(new StateStore(dir).save(sampleDoc(3))).rejects.toThrow(StateCorruptError);
  });

  it('loads state.json but warns when the previous copy is corrupt', async () => {
    const dir = await twoSaves();
    await truncateFile(join(dir, 'state.prev.json'));
    const loaded = await new StateStore(dir).load();
    expect([loaded.source, loaded.doc?.epoch]).toEqual(['current', 2]);
    expect(loaded.warnings[0]).toBe(
      'state.prev.json is not valid JSON (truncated?); there is no usable previous copy',
    );
  });

  it('moves a corrupt state.json aside at save, so it never becomes the previous copy', async () => {
    const dir = await twoSaves();
    await truncateFile(join(dir, 'state.json'));
    await new StateStore(dir).save(sampleDoc(3));
    const loaded = await new StateStore(dir).load();
    await rm(join(dir, 'state.json'));
    expect((await new StateStore(dir).load()).doc?.epoch).toBe(1);
    expect(loaded.doc?.epoch).toBe(3);
  });

  it('falls back when a checksum-valid state.json does not match the schema', async () => {
    const dir = await twoSaves();
    const body = { ...sampleDoc(2), table: { ...sampleDoc(2).table, roles: { active: 'vm-a' } } };
    await writeFile(join(dir, 'state.json'), encodeEnvelope(body));
    const loaded = await new StateStore(dir).load();
    expect(loaded.warnings[0]).toBe(
      'state.json does not match the v1 schema (table.roles.standby: Invalid input: expected string, received undefined); using state.prev.json (epoch 1)',
    );
  });

  it('removes a leftover state.json.tmp with a warning', async () => {
    const dir = await twoSaves();
    await writeFile(join(dir, 'state.json.tmp'), '{"schemaVersion": 1, "ep');
    const loaded = await new StateStore(dir).load();
    expect(loaded.warnings).toEqual(['removed state.json.tmp left by a save that did not complete']);
    expect((await readdir(dir)).sort()).toEqual(['state.json', 'state.prev.json']);
  });
});

describe('StateStore schema versions', () => {
  it('refuses a state.json of an unknown schema version, even with a usable previous copy', async () => {
    const dir = await twoSaves();
    await writeFile(join(dir, 'state.json'), encodeEnvelope({ ...sampleDoc(3), schemaVersion: 2 }));
    await expect(new StateStore(dir).load()).rejects.toThrow(
      'state.json has state schema version 2; this baton reads version 1 and has no migration from 2: refusing to read it',
    );
  });

  it('refuses a state.json whose in-flight operation is at a phase this version does not know, naming the version', async () => {
    const dir = await twoSaves();
    const doc = sampleDoc(3);
    const [op] = doc.operations;
    if (op === undefined) throw new Error('the sample has no operation');
    const foreign = {
      ...op,
      phase: 'prewarm',
      history: op.history.map((step) => ({ ...step, phase: 'prewarm' })),
    };
    await writeFile(join(dir, 'state.json'), encodeEnvelope({ ...doc, operations: [foreign] }));
    const error = await new StateStore(dir).load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StatePhaseUnknownError);
    expect((error as Error).message).toBe(
      `state.json (state schema version 1) has operation ${op.id} at phase 'prewarm', which this baton (state schema version 1, phases fence, stop, unplug, disk-detach, disk, plug, confirm, start, healthy, commit) does not know: it was written by another version; refusing to read it`,
    );
  });

  it('refuses to save over a state.json of an unknown schema version', async () => {
    const dir = await tempStateDir();
    await writeFile(join(dir, 'state.json'), encodeEnvelope({ ...sampleDoc(3), schemaVersion: 2 }));
    await expect(new StateStore(dir).save(sampleDoc(4))).rejects.toThrow(StateVersionError);
  });

  it('migrates an older version through the registered step, and says so', async () => {
    const dir = await tempStateDir();
    const { history, ...v0 } = sampleDoc(4);
    await writeFile(join(dir, 'state.json'), encodeEnvelope({ ...v0, schemaVersion: 0, failovers: history }));
    const migrations: MigrationRegistry = new Map([
      [0, ({ failovers, ...rest }) => ({ ...rest, history: failovers })],
    ]);
    const loaded = await new StateStore(dir, { migrations }).load();
    expect(loaded.doc).toEqual(sampleDoc(4));
    expect(loaded.warnings).toEqual(['state.json has schema v0; migrated to v1']);
  });
});

describe('StateStore refuses unsafe paths', () => {
  it('refuses a state.json that is a symbolic link', async () => {
    const dir = await twoSaves();
    await rm(join(dir, 'state.json'));
    await symlink(join(dir, 'state.prev.json'), join(dir, 'state.json'));
    await expect(new StateStore(dir).load()).rejects.toThrow(StateUnsafeError);
  });

  it('refuses a world-writable state directory', async () => {
    const dir = await tempStateDir();
    await chmod(dir, 0o777);
    await expect(new StateStore(dir).load()).rejects.toThrow(
      /the state directory is world-writable \(mode 777\)/,
    );
  });
});
