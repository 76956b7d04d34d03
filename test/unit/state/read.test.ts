import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StatePhaseUnknownError, StateUnsafeError, StateVersionError } from '../../../src/errors.js';
import { decodeEnvelope, encodeEnvelope } from '../../../src/state/envelope.js';
import type { MigrationRegistry } from '../../../src/state/migrations.js';
import { readStateFile } from '../../../src/state/read.js';
import { sampleDoc, tempStateDir } from './fixtures.js';

const none: MigrationRegistry = new Map();

async function written(body: unknown): Promise<string> {
  const path = join(await tempStateDir(), 'state.json');
  await writeFile(path, typeof body === 'string' ? body : encodeEnvelope(body as never));
  return path;
}

describe('reading one state file', () => {
  it('a file that does not exist is missing', async () => {
    const dir = await tempStateDir();
    await expect(readStateFile(join(dir, 'state.json'), 'state.json', none)).resolves.toEqual({
      status: 'missing',
    });
  });

  it('a valid file is usable, its table frozen, with no notes', async () => {
    const reading = await readStateFile(await written(sampleDoc(3)), 'state.json', none);
    if (reading.status !== 'usable') throw new Error(`expected usable, got ${reading.status}`);
    expect(reading.doc).toEqual(sampleDoc(3));
    expect(reading.notes).toEqual([]);
    expect(Object.isFrozen(reading.doc.table)).toBe(true);
  });

  it('a path under a regular file could not be read, with the errno', async () => {
    const dir = await tempStateDir();
    await writeFile(join(dir, 'plain'), 'x');
    await expect(readStateFile(join(dir, 'plain', 'state.json'), 'state.json', none)).resolves.toEqual({
      status: 'unusable',
      reason: 'could not be read (ENOTDIR)',
    });
  });

  it('a symbolic link or a directory is refused with StateUnsafeError, not skipped', async () => {
    const dir = await tempStateDir();
    await writeFile(join(dir, 'real.json'), encodeEnvelope(sampleDoc(3)));
    await symlink(join(dir, 'real.json'), join(dir, 'state.json'));
    await expect(readStateFile(join(dir, 'state.json'), 'state.json', none)).rejects.toBeInstanceOf(
      StateUnsafeError,
    );
    await mkdir(join(dir, 'sub.json'));
    await expect(readStateFile(join(dir, 'sub.json'), 'sub.json', none)).rejects.toMatchObject({
      code: 'STATE_UNSAFE',
    });
  });

  it('bytes that are not an envelope are unusable with the envelope’s reason', async () => {
    const text = '{"not":"an envelope"';
    const decoded = decodeEnvelope(Buffer.from(text));
    if (decoded.isValid) throw new Error('the text decoded');
    const reading = await readStateFile(await written(text), 'state.json', none);
    expect(reading).toEqual({ status: 'unusable', reason: decoded.reason });
  });

  it('a migration step that throws leaves the file unusable, naming the version and the error', async () => {
    const path = await written({ ...sampleDoc(3), schemaVersion: 0 });
    const broken: MigrationRegistry = new Map([
      [
        0,
        () => {
          throw new Error('field x missing');
        },
      ],
    ]);
    await expect(readStateFile(path, 'state.json', broken)).resolves.toEqual({
      status: 'unusable',
      reason: 'could not be migrated from schema v0 (field x missing)',
    });
  });

  it('a newer version is unknown, carrying the StateVersionError', async () => {
    const reading = await readStateFile(await written({ ...sampleDoc(3), schemaVersion: 7 }), 'x', none);
    if (reading.status !== 'unknown-version')
      throw new Error(`expected unknown-version, got ${reading.status}`);
    expect(reading.error).toBeInstanceOf(StateVersionError);
  });

  it('an undo mark this build does not know is an unknown version, naming the mark and the known marks', async () => {
    const doc = sampleDoc(3);
    const [op] = doc.operations;
    if (op === undefined) throw new Error('the sample has no operation');
    const foreign = { ...op, history: op.history.map((step) => ({ ...step, mark: 'redo-twice' })) };
    const reading = await readStateFile(await written({ ...doc, operations: [foreign] }), 'state.json', none);
    if (reading.status !== 'unknown-version')
      throw new Error(`expected unknown-version, got ${reading.status}`);
    expect(reading.error).toBeInstanceOf(StatePhaseUnknownError);
    expect(reading.error.message).toContain("'redo-twice'");
    expect(reading.error.message).toContain(`operation ${op.id}`);
  });

  it('a body that breaks the schema is unusable, saying where', async () => {
    const reading = await readStateFile(
      await written({ ...sampleDoc(3), history: 'none' }),
      'state.json',
      none,
    );
    expect(reading).toMatchObject({ status: 'unusable' });
    expect((reading as { reason: string }).reason).toMatch(/^does not match the v1 schema \(.*history/);
  });

  it('operations that are not a list are the schema’s to refuse, not a crash', async () => {
    const reading = await readStateFile(
      await written({ ...sampleDoc(3), operations: { 0: null } }),
      'x',
      none,
    );
    expect(reading.status).toBe('unusable');
  });

  it('a table that breaks its invariants is still usable, with a note counting the breaks', async () => {
    const doc = sampleDoc(3);
    const table = { ...doc.table, budgetBytes: 1 };
    const reading = await readStateFile(await written({ ...doc, table }), 'state.json', none);
    if (reading.status !== 'usable') throw new Error(`expected usable, got ${reading.status}`);
    expect(reading.notes).toHaveLength(1);
    expect(reading.notes[0]).toMatch(/^state\.json: the table at epoch \d+ breaks [1-9]\d* invariant\(s\): /);
  });
});
