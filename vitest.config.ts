// Test projects: `unit` and `unit-mocked` run in seconds with no QEMU; `integration` boots real guests.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/** Unit test files that replace modules with `vi.mock`: each needs its own module registry. */
function unitFilesThatMock(dir = 'test/unit'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return unitFilesThatMock(path);
    if (!entry.name.endsWith('.test.ts')) return [];
    return /\bvi\.(do)?[mM]ock\(/.test(readFileSync(path, 'utf8')) ? [path] : [];
  });
}

const mocking = unitFilesThatMock();

export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      {
        // The unit files share their workers' module registry (no per-file isolation): loading the
        // modules once per worker instead of once per file makes the project about 4 times faster.
        // So a helper must not register hooks when imported (it would do so for the first file
        // only): it cleans up with `onTestFinished` from the function that made the thing.
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          exclude: mocking,
          pool: 'forks',
          isolate: false,
          maxWorkers: 2,
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'unit-mocked',
          include: mocking,
          pool: 'forks',
          maxWorkers: 2,
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          pool: 'forks',
          // Each file boots its own guests; two cores cannot run many TCG guests at once.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
