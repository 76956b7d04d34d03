// Turns what is wrong with a config into one line each: `<file>: <path>: expected <what>, got <value>`.
import type { z } from 'zod';
import { KNOWN_KEYS_PREFIX } from './schema.js';

export type ConfigPath = readonly PropertyKey[];

/** One problem: where (`apps[0].memory`; empty for the whole file) and what (`expected ..., got ...`). */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** `apps[0].health.intervalMs`; odd keys quoted: `apps[0]['my key']`. */
export function formatPath(path: ConfigPath): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(String(key)))
      text += text === '' ? String(key) : `.${String(key)}`;
    else text += `[${quote(String(key))}]`;
  }
  return text;
}

const MAX_SHOWN_CHARS = 60;

/** Quotes text for a message: control characters escaped, long text cut. */
export function quote(text: string): string {
  const cut = text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}...` : text;
  return `'${JSON.stringify(cut).slice(1, -1).replaceAll("'", "\\'")}'`;
}

/** What was found, for people: `'12XB'`, `1e30` (as written, via `sourceText`), `a list`, `nothing`. */
export function describeValue(value: unknown, sourceText?: string): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return value === '' ? 'an empty string' : quote(value);
  if (typeof value === 'number') return sourceText?.trim() || String(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`;
  if (value instanceof Uint8Array) return 'binary data';
  if (typeof value === 'object') return Object.keys(value).length === 0 ? 'an empty mapping' : 'a mapping';
  return typeof value;
}

/** The value at `path` in parsed data (undefined when absent). */
export function valueAt(data: unknown, path: ConfigPath): unknown {
  let node: unknown = data;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** The closest known key within two edits, for "did you mean". */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const key of candidates) {
    const distance = editDistance(word.toLowerCase(), key.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { key, distance };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * One problem per zod issue (one per key for unknown keys). Messages of baton's schema are what was
 * expected; `sourceTextAt` gives a number as written in the file (`1e30`, not `1e+30`).
 */
export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  data: unknown,
  sourceTextAt: (path: ConfigPath) => string | undefined,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = issue.message.startsWith(KNOWN_KEYS_PREFIX)
        ? issue.message.slice(KNOWN_KEYS_PREFIX.length).split(', ')
        : [];
      for (const key of issue.keys) {
        const guess = closest(key, known);
        const hint = guess === undefined ? `known keys: ${known.join(', ')}` : `did you mean '${guess}'?`;
        problems.push({ path: formatPath([...issue.path, key]), message: `unknown key (${hint})` });
      }
      continue;
    }
    const branch = issue.code === 'invalid_union' ? matchingBranch(issue.errors) : undefined;
    if (branch !== undefined) {
      const nested = branch.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }));
      problems.push(...problemsFromIssues(nested as z.core.$ZodIssue[], data, sourceTextAt));
      continue;
    }
    const found = describeValue(valueAt(data, issue.path), sourceTextAt(issue.path));
    problems.push({ path: formatPath(issue.path), message: `expected ${issue.message}, got ${found}` });
  }
  return problems;
}

/**
 * The one alternative of a union that the value has the right shape for (its issues are about
 * what is inside), so that `vms.image: { disk: 5 }` names `vms.image.disk`; undefined when none
 * or several are.
 */
function matchingBranch(
  branches: readonly (readonly z.core.$ZodIssue[])[],
): readonly z.core.$ZodIssue[] | undefined {
  const isWrongShape = (issue: z.core.$ZodIssue) =>
    issue.path.length === 0 && (issue.code === 'invalid_type' || issue.code === 'invalid_value');
  const candidates = branches.filter((issues) => !issues.some(isWrongShape));
  return candidates.length === 1 ? candidates[0] : undefined;
}

/** Fallback wording for zod's own issues, should a schema ever leave one without a message. */
export function expectedFromIssue(issue: z.core.$ZodRawIssue): string {
  if (issue.code === 'invalid_type') return `a value of type ${issue.expected}`;
  return 'a valid value';
}

/** The lines of a ConfigError: `<file>: <path>: <message>`, or `<file>: <message>` for the whole file. */
export function formatProblems(file: string, problems: readonly ConfigProblem[]): string[] {
  return problems.map(({ path, message }) =>
    path === '' ? `${file}: ${message}` : `${file}: ${path}: ${message}`,
  );
}
