// Reads one state file and says what it is: missing, usable (perhaps migrated), unusable and why, or of an unknown version.
import { StatePhaseUnknownError, StateUnsafeError, StateVersionError } from '../errors.js';
import { checkInvariants, freezeTable } from '../table/index.js';
import { readRegularFile } from './durable.js';
import { decodeEnvelope } from './envelope.js';
import { type MigrationRegistry, migrateBody } from './migrations.js';
import { isOperationPhase, isStepMark, OPERATION_PHASES, STEP_MARKS } from './phases.js';
import { describeSchemaProblem, stateDocSchema } from './schema.js';
import { STATE_SCHEMA_VERSION, type StateDoc } from './types.js';

export type StateFileReading =
  | { readonly status: 'missing' }
  | {
      readonly status: 'usable';
      readonly doc: StateDoc;
      /** What load should say about it (a migration, broken table invariants). */
      readonly notes: readonly string[];
    }
  | { readonly status: 'unusable'; readonly reason: string }
  | { readonly status: 'unknown-version'; readonly error: StateVersionError | StatePhaseUnknownError };

/**
 * Reads and verifies the state file at `path` (`label` is its name in messages). An unsafe file
 * (a symlink, not a regular file, too big) throws StateUnsafeError: it is refused, not skipped.
 */
export async function readStateFile(
  path: string,
  label: string,
  registry: MigrationRegistry,
): Promise<StateFileReading> {
  let bytes: Buffer | undefined;
  try {
    bytes = await readRegularFile(path);
  } catch (error) {
    if (error instanceof StateUnsafeError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { status: 'unusable', reason: `could not be read (${code})` };
  }
  if (bytes === undefined) return { status: 'missing' };
  const decoded = decodeEnvelope(bytes);
  if (!decoded.isValid) return { status: 'unusable', reason: decoded.reason };
  const { envelope } = decoded;
  const notes: string[] = [];
  let body = envelope.body;
  if (envelope.schemaVersion !== STATE_SCHEMA_VERSION) {
    try {
      body = migrateBody(body, envelope.schemaVersion, { file: label, registry });
    } catch (error) {
      if (error instanceof StateVersionError) return { status: 'unknown-version', error };
      const message = (error as Error).message;
      return {
        status: 'unusable',
        reason: `could not be migrated from schema v${envelope.schemaVersion} (${message})`,
      };
    }
    notes.push(`${label} has schema v${envelope.schemaVersion}; migrated to v${STATE_SCHEMA_VERSION}`);
  }
  const unknown = unknownPhaseOf(body);
  if (unknown !== undefined) {
    const error = new StatePhaseUnknownError({
      file: label,
      schemaVersion: envelope.schemaVersion,
      supportedVersion: STATE_SCHEMA_VERSION,
      ...unknown,
      known: unknown.field === 'mark' ? STEP_MARKS : OPERATION_PHASES,
    });
    return { status: 'unknown-version', error };
  }
  const parsed = stateDocSchema.safeParse(body);
  if (!parsed.success) {
    return {
      status: 'unusable',
      reason: `does not match the v${STATE_SCHEMA_VERSION} schema (${describeSchemaProblem(parsed.error)})`,
    };
  }
  const doc: StateDoc = { ...parsed.data, table: freezeTable(parsed.data.table) };
  const violations = checkInvariants(doc.table);
  if (violations.length > 0) {
    notes.push(
      `${label}: the table at epoch ${doc.table.epoch} breaks ${violations.length} invariant(s): ${violations
        .map((violation) => violation.message)
        .join('; ')}`,
    );
  }
  return { status: 'usable', doc, notes };
}

/**
 * The first phase, or step mark (`undo`), an in-flight operation of `body` names that this build
 * does not know (checked before the schema, which would only call it invalid).
 */
function unknownPhaseOf(
  body: unknown,
): { operationId: string; phase: string; field: 'phase' | 'mark' } | undefined {
  const operations = (body as { operations?: unknown } | null)?.operations;
  if (!Array.isArray(operations)) return undefined;
  for (const op of operations as Array<{ id?: unknown; phase?: unknown; history?: unknown }>) {
    const steps = Array.isArray(op?.history)
      ? (op.history as Array<{ phase?: unknown; mark?: unknown }>)
      : [];
    for (const phase of [op?.phase, ...steps.map((step) => step?.phase)]) {
      if (typeof phase === 'string' && !isOperationPhase(phase))
        return { operationId: String(op.id), phase, field: 'phase' };
    }
    for (const mark of steps.map((step) => step?.mark)) {
      if (typeof mark === 'string' && !isStepMark(mark))
        return { operationId: String(op.id), phase: mark, field: 'mark' };
    }
  }
  return undefined;
}
