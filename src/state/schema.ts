// The zod schema of a version-1 state document (roll-back marks are optional, so older files load); tsc fails here when a persisted type gains a field.
import { z } from 'zod';
import type { Area, ResourceTable } from '../table/types.js';
import type { FailoverRecord } from './history.js';
import { OPERATION_PHASES, STEP_MARKS } from './phases.js';
import { type InFlightOperation, type PhaseStep, STATE_SCHEMA_VERSION, type StateDoc } from './types.js';

const wholeNumber = z.number().int().nonnegative();
const positiveNumber = z.number().int().positive();
const name = z.string().min(1);
const phase = z.enum(OPERATION_PHASES);
const phaseState = z.enum(['intent', 'done']);
const phaseOutcome = z.enum(['ok', 'failed']);

export const areaSchema = z.strictObject({
  name,
  kind: z.enum(['os', 'monitor', 'app', 'pool']),
  sizeBytes: wholeNumber,
  user: name,
  onFailure: name,
  requestedBytes: wholeNumber,
  pluggedBytes: wholeNumber,
  observedAtMs: z.number().nonnegative().exactOptional(),
  observedBy: z.enum(['qmp', 'agent', 'plan']).exactOptional(),
  slot: name.exactOptional(),
  hotStandby: z.boolean().exactOptional(),
});

export const tableSchema = z.strictObject({
  epoch: wholeNumber,
  budgetBytes: positiveNumber,
  blockBytes: positiveNumber,
  osMinBytes: wholeNumber,
  roles: z.strictObject({ active: name, standby: name }),
  areas: z.array(areaSchema).readonly(),
});

export const phaseStepSchema = z.strictObject({
  phase,
  app: name.exactOptional(),
  mark: z.enum(STEP_MARKS).exactOptional(),
  state: phaseState,
  startedAt: z.string(),
  endedAt: z.string().exactOptional(),
  outcome: phaseOutcome.exactOptional(),
  detail: z.string().exactOptional(),
});

export const operationSchema = z
  .strictObject({
    id: name,
    kind: z.enum(['whole-vm', 'app', 'switchover']),
    app: name.exactOptional(),
    apps: z.array(name).readonly(),
    fromVm: name,
    toVm: name,
    trigger: z.string(),
    startedAt: z.string(),
    phase: phase.exactOptional(),
    phaseApp: name.exactOptional(),
    phaseState: phaseState.exactOptional(),
    phaseOutcome: phaseOutcome.exactOptional(),
    rollingBack: z
      .strictObject({ error: z.string(), reason: z.string(), startedAt: z.string() })
      .exactOptional(),
    history: z.array(phaseStepSchema).readonly(),
  })
  .refine((op) => op.kind !== 'app' || (op.app !== undefined && op.apps.join() === op.app), {
    message: 'an app move names its app, and only it in apps',
  })
  .refine((op) => (op.phase === undefined) === (op.phaseState === undefined), {
    message: 'phase and phaseState are set together',
  });

/** Only the fields baton reads are checked; a record may carry more (it is history, for people). */
export const failoverRecordSchema = z.looseObject({
  id: name,
  kind: z.enum(['whole-vm', 'app', 'switchover']),
  trigger: z.string(),
  app: z.string().exactOptional(),
  fromVm: z.string(),
  toVm: z.string(),
  startedAt: z.string(),
  totalMs: z.number().nonnegative(),
  result: z.enum(['running', 'succeeded', 'failed', 'blocked']),
  phases: z.array(z.strictObject({ name: z.string(), ms: z.number() })),
  error: z.string().exactOptional(),
  escalatedTo: z.string().exactOptional(),
});

export const stateDocSchema = z.strictObject({
  schemaVersion: z.literal(STATE_SCHEMA_VERSION),
  epoch: positiveNumber,
  table: tableSchema,
  operations: z.array(operationSchema).readonly(),
  history: z.array(failoverRecordSchema).readonly(),
});

/** True when A and B have the same keys and each is assignable to the other (readonly aside). */
type SameShape<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? [Exclude<keyof A, keyof B> | Exclude<keyof B, keyof A>] extends [never]
      ? true
      : false
    : false
  : false;
type AssertTrue<T extends true> = T;
export type _SchemaMatchesTypes = AssertTrue<
  | SameShape<z.output<typeof areaSchema>, Area>
  | SameShape<Omit<z.output<typeof tableSchema>, 'areas'>, Omit<ResourceTable, 'areas'>>
  | SameShape<z.output<typeof phaseStepSchema>, PhaseStep>
  | SameShape<Omit<z.output<typeof operationSchema>, 'history'>, Omit<InFlightOperation, 'history'>>
  | SameShape<Omit<z.output<typeof stateDocSchema>, 'history'>, Omit<StateDoc, 'history'>>
>;
// History records are checked loosely (extra keys allowed), so only assignability is asserted.
export type _HistoryMatches = AssertTrue<
  z.output<typeof failoverRecordSchema> extends FailoverRecord ? true : false
>;

/** The first problem zod found, as `path: message`, for a warning line. */
export function describeSchemaProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'unknown problem';
  const path = issue.path.length === 0 ? '(document)' : issue.path.join('.');
  return `${path}: ${issue.message}`;
}
