import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExamplePair, REDIS_EXAMPLE_PATH } from '../../../src/config/example.js';
import { isBatonError } from '../../../src/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-example-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadExamplePair', () => {
  it('refuses a missing disk image with one line saying to run make images (exit code 3)', async () => {
    // The example's relative image path resolves against the copy's folder, where there is no image.
    const copy = join(dir, 'redis.yaml');
    await writeFile(copy, await readFile(REDIS_EXAMPLE_PATH, 'utf8'));
    const error = await loadExamplePair(join(dir, 'state'), copy).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isBatonError(error, 'MISSING_DEPENDENCY')).toBe(true);
    const message = (error as Error).message;
    expect(message).toBe(
      `The Debian guest image ${join(dir, '..', '..', 'images', 'out', 'debian', 'base.qcow2')} is missing: run \`make images\` to build it`,
    );
    expect(message).not.toContain('\n');
  });

  it('takes a scratch state dir, allows fault injection and puts every endpoint on a free port', async () => {
    // A config whose disk image is there (this test file stands in for it).
    const copy = join(dir, 'with-image.yaml');
    const text = (await readFile(REDIS_EXAMPLE_PATH, 'utf8')).replace(
      /disk: \S+/,
      `disk: ${join(import.meta.dirname, 'example.test.ts')}`,
    );
    await writeFile(copy, text);
    const config = await loadExamplePair('/tmp/scratch-state', copy);
    expect(config.stateDir).toBe('/tmp/scratch-state');
    expect(config.isFaultInjectionAllowed).toBe(true);
    expect(config.apps.map((a) => [a.name, a.endpointPort, a.guestPort])).toEqual([['redis', 0, 6379]]);
    expect(config.image).toMatchObject({
      kind: 'disk',
      diskPath: join(import.meta.dirname, 'example.test.ts'),
    });
  });
});
