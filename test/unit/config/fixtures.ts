// Config test helpers: a small valid file, edits to it by path, and the problem lines a text yields.
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/load.js';
import type { BatonConfig } from '../../../src/config/types.js';
import { ConfigError } from '../../../src/errors.js';

/** The smallest valid file: a budget and one app; everything else defaults. */
export function minimalFile(): Record<string, unknown> {
  return {
    budget: '736MiB',
    apps: [{ name: 'kvd', argv: ['/apps/kvd', '--port', '7000'], memory: '128MiB', port: 7000 }],
  };
}

/**
 * The minimal file with `edits` applied, as YAML. Keys are dotted paths (`apps.0.health.timeoutMs`);
 * `undefined` removes the key.
 */
export function fileWith(edits: Record<string, unknown>): string {
  const file = minimalFile();
  for (const [path, value] of Object.entries(edits)) {
    const keys = path.split('.');
    const last = keys.pop() as string;
    let node = file as Record<string, unknown>;
    keys.forEach((key, index) => {
      node[key] ??= /^\d+$/.test(keys[index + 1] ?? last) ? [] : {};
      node = node[key] as Record<string, unknown>;
    });
    if (value === undefined) delete node[last];
    else node[last] = value;
  }
  return stringify(file);
}

/** The problem lines of `text` (empty when it is valid). */
export function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'baton.yaml');
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

export function problemsWith(edits: Record<string, unknown>): string[] {
  return problemsOf(fileWith(edits));
}

export function configWith(edits: Record<string, unknown>): BatonConfig {
  return parseConfig(fileWith(edits), 'baton.yaml');
}
