import { describe, expect, it } from 'vitest';
import { StateVersionError } from '../../../src/errors.js';
import { MIGRATIONS, type MigrationRegistry, migrateBody } from '../../../src/state/migrations.js';

const file = 'state.json';

describe('migrateBody', () => {
  it('has no migrations registered: version 1 is the first', () => {
    expect(MIGRATIONS.size).toBe(0);
  });

  it('refuses a newer version', () => {
    expect(() => migrateBody({ schemaVersion: 2 }, 2, { file, registry: MIGRATIONS })).toThrow(
      StateVersionError,
    );
  });

  it('refuses an older version with no registered step', () => {
    expect(() => migrateBody({ schemaVersion: 0 }, 0, { file, registry: MIGRATIONS })).toThrow(
      'state.json has state schema version 0; this baton reads version 1 and has no migration from 0: refusing to read it',
    );
  });

  it('runs the registered step and stamps the new version', () => {
    const registry: MigrationRegistry = new Map([[0, (body) => ({ ...body, added: true })]]);
    expect(migrateBody({ schemaVersion: 0, epoch: 4 }, 0, { file, registry })).toEqual({
      schemaVersion: 1,
      epoch: 4,
      added: true,
    });
  });
});
