import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  describeSchemaProblem,
  failoverRecordSchema,
  operationSchema,
  stateDocSchema,
} from '../../../src/state/schema.js';
import { failoverRecord, sampleDoc } from './fixtures.js';

const problemOf = (schema: z.ZodType, value: unknown): string => {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error('the value was accepted');
  return describeSchemaProblem(parsed.error);
};

const operation = () => {
  const [op] = sampleDoc(3).operations;
  if (op === undefined) throw new Error('the sample has no operation');
  return op;
};

describe('the state document schema', () => {
  it('accepts the sample document as it is', () => {
    expect(stateDocSchema.parse(sampleDoc(3))).toEqual(sampleDoc(3));
  });

  it('refuses another schema version, epoch 0 and an unknown top-level key, naming the path', () => {
    expect(problemOf(stateDocSchema, { ...sampleDoc(3), schemaVersion: 2 })).toMatch(/^schemaVersion: /);
    expect(problemOf(stateDocSchema, { ...sampleDoc(3), epoch: 0 })).toMatch(/^epoch: /);
    expect(problemOf(stateDocSchema, { ...sampleDoc(3), extra: 1 })).toMatch(/^\(document\): .*extra/);
  });

  it('refuses hostile table figures: negative, fractional or missing sizes, an unknown area kind', () => {
    const doc = sampleDoc(3);
    const withArea = (change: Record<string, unknown>) => ({
      ...doc,
      table: { ...doc.table, areas: [{ ...doc.table.areas[0], ...change }] },
    });
    expect(problemOf(stateDocSchema, withArea({ sizeBytes: -1 }))).toMatch(/^table\.areas\.0\.sizeBytes: /);
    expect(problemOf(stateDocSchema, withArea({ pluggedBytes: 0.5 }))).toMatch(/pluggedBytes/);
    expect(problemOf(stateDocSchema, withArea({ kind: 'swap' }))).toMatch(/kind/);
    expect(problemOf(stateDocSchema, withArea({ observedBy: undefined }))).toMatch(/observedBy/);
    expect(problemOf(stateDocSchema, { ...doc, table: { ...doc.table, roles: { active: '' } } })).toMatch(
      /^table\.roles\./,
    );
  });
});

describe('the in-flight operation schema', () => {
  it('an app move names its app, and only it in apps', () => {
    const move = { ...operation(), kind: 'app', app: 'A', apps: ['A'] };
    expect(operationSchema.safeParse(move).success).toBe(true);
    expect(problemOf(operationSchema, { ...move, apps: ['A', 'B'] })).toBe(
      '(document): an app move names its app, and only it in apps',
    );
    const { app: _app, ...noApp } = move;
    expect(problemOf(operationSchema, noApp)).toBe(
      '(document): an app move names its app, and only it in apps',
    );
  });

  it('phase and phaseState are set together', () => {
    const { phaseState: _state, ...noState } = operation();
    expect(problemOf(operationSchema, noState)).toBe('(document): phase and phaseState are set together');
  });

  it('refuses a step with a phase or mark this build does not know', () => {
    const op = operation();
    const step = op.history[0];
    expect(problemOf(operationSchema, { ...op, history: [{ ...step, phase: 'prewarm' }] })).toMatch(
      /^history\.0\.phase: /,
    );
    expect(problemOf(operationSchema, { ...op, history: [{ ...step, mark: 'again' }] })).toMatch(
      /^history\.0\.mark: /,
    );
  });
});

describe('the failover record schema', () => {
  it('keeps fields it does not read (history is for people) but checks those it does', () => {
    const record = { ...failoverRecord('f1'), note: 'kept' };
    expect(failoverRecordSchema.parse(record)).toEqual(record);
    expect(problemOf(failoverRecordSchema, { ...record, result: 'ok' })).toMatch(/^result: /);
    expect(problemOf(failoverRecordSchema, { ...record, totalMs: -1 })).toMatch(/^totalMs: /);
    expect(problemOf(failoverRecordSchema, { ...record, phases: [{ name: 'fence', ms: 1, x: 1 }] })).toMatch(
      /^phases\.0: /,
    );
  });
});

describe('describing a schema problem', () => {
  it('says so when zod gave no issue', () => {
    expect(describeSchemaProblem({ issues: [] } as unknown as z.ZodError)).toBe('unknown problem');
  });
});
