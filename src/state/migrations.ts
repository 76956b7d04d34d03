// Schema migrations: one function per version step; a version no chain of steps reaches is refused.
import { StateVersionError } from '../errors.js';
import { STATE_SCHEMA_VERSION } from './types.js';

export type StateBody = Readonly<Record<string, unknown>>;

/** Turns a verified body of version n into a body of version n + 1 (which the next step or the schema checks). */
export type Migration = (body: StateBody) => StateBody;

/** Keyed by the version a step migrates from. */
export type MigrationRegistry = ReadonlyMap<number, Migration>;

/**
 * Version 1 is the first version baton wrote, so there is nothing to migrate yet. When version 2
 * comes, add `[1, (body) => ...]` here and a test that a real version-1 file loads.
 */
export const MIGRATIONS: MigrationRegistry = new Map();

/**
 * The body at STATE_SCHEMA_VERSION, through every step from `fromVersion`. A newer version, or an
 * older one with a missing step, throws StateVersionError: a file is never read as another version.
 */
export function migrateBody(
  body: StateBody,
  fromVersion: number,
  options: { file: string; registry: MigrationRegistry },
): StateBody {
  let current = body;
  for (let version = fromVersion; version !== STATE_SCHEMA_VERSION; version += 1) {
    const step = version < STATE_SCHEMA_VERSION ? options.registry.get(version) : undefined;
    if (step === undefined) {
      throw new StateVersionError({
        file: options.file,
        foundVersion: fromVersion,
        supportedVersion: STATE_SCHEMA_VERSION,
      });
    }
    current = { ...step(current), schemaVersion: version + 1 };
  }
  return current;
}
