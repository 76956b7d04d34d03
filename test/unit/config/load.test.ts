import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, MAX_CONFIG_BYTES, parseConfig, toPairConfig } from '../../../src/config/load.js';
import { ConfigError, isBatonError } from '../../../src/errors.js';
import { MiB } from '../../../src/units.js';
import { fileWith, problemsOf } from './fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The ConfigError that `action` rejects with. */
async function configErrorOf(action: () => Promise<unknown>): Promise<ConfigError> {
  const error = await action().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  return error;
}

describe('loadConfig', () => {
  it('reads a file and names it in every problem', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(path, fileWith({ budget: '12XB', 'apps.0.memory': '-1MiB' }));
    const error = await configErrorOf(() => loadConfig(path));
    expect(error.problems).toEqual([
      `${path}: budget: expected a size like 736MiB, got '12XB'`,
      `${path}: apps[0].memory: expected a size like 128MiB, got '-1MiB'`,
    ]);
    expect(error.message).toBe(error.problems.join('\n'));
    expect(error.file).toBe(path);
    expect(isBatonError(error, 'INVALID_CONFIG')).toBe(true);
  });

  it('says in one line that a missing file cannot be read', async () => {
    const path = join(dir, 'missing.yaml');
    const error = await configErrorOf(() => loadConfig(path));
    expect(error.problems).toEqual([`cannot read config ${path}: ENOENT: no such file or directory`]);
    expect(error.cause).toMatchObject({ code: 'ENOENT' });
  });

  it('says in one line that a directory cannot be read', async () => {
    const error = await configErrorOf(() => loadConfig(dir));
    expect(error.problems).toEqual([`cannot read config ${dir}: EISDIR: illegal operation on a directory`]);
  });

  it('refuses a file larger than 1 MiB without reading all of it', async () => {
    const path = join(dir, 'huge.yaml');
    await writeFile(path, `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
    const error = await configErrorOf(() => loadConfig(path));
    expect(error.problems).toEqual([`cannot read config ${path}: larger than 1 MiB: not a config file`]);
  });

  it('refuses text that is not UTF-8', async () => {
    const path = join(dir, 'latin1.yaml');
    await writeFile(path, Buffer.from([0x62, 0x3a, 0x20, 0xe9, 0x0a]));
    const error = await configErrorOf(() => loadConfig(path));
    expect(error.problems).toEqual([`cannot read config ${path}: not UTF-8 text`]);
  });
});

describe('parseConfig: YAML', () => {
  it.each([
    ['budget: 1GiB\nbudget: 2GiB\n', 'line 2, column 1: Map keys must be unique'],
    ["budget: '1GiB\n", "line 2, column 1: Missing closing 'quote"],
    ['vms:\n  cpus: 1\n names: []\n', 'line 3, column 1: All mapping items must start at the same column'],
    [
      'budget: 1GiB\n---\nbudget: 2GiB\n',
      'line 2, column 1: Source contains multiple documents; please use YAML.parseAllDocuments()',
    ],
    ['budget: !size 1GiB\n', 'line 1, column 9: Unresolved tag: !size'],
    ['', 'expected a mapping of settings, got an empty file'],
    ['# nothing here\n', 'expected a mapping of settings, got an empty file'],
    ['- budget\n', 'expected a mapping of settings, got a list of 1'],
    ['just words\n', "expected a mapping of settings, got 'just words'"],
  ])('reports %o with its position', (text, message) => {
    expect(problemsOf(text)).toEqual([`baton.yaml: ${message}`]);
  });

  it('reads anchors and aliases', () => {
    const text = `${fileWith({})}\nvms: { baseMemory: &base 128MiB }\nmonitor: *base\n`;
    const config = parseConfig(text.replace('budget: 736MiB', 'budget: 1GiB'), 'baton.yaml');
    expect(config.monitorBytes).toBe(128 * MiB);
  });

  it('throws a ConfigError with code INVALID_CONFIG', () => {
    expect(() => parseConfig('budget: 12XB\n', 'x.yaml')).toThrow(ConfigError);
    expect(() => parseConfig('budget: 12XB\n', 'x.yaml')).toThrow(
      "x.yaml: budget: expected a size like 736MiB, got '12XB'\nx.yaml: apps: expected a list of 1 to 8 apps, got nothing",
    );
  });
});

const TWO_APPS = `
budget: 1GiB
blockSize: 4MiB
monitor: 64MiB
stateDir: /srv/baton
vms: { names: [alpha, beta], baseMemory: 128MiB, maxMemory: 4GiB, cpus: 2 }
heartbeatMs: 250
detection: { helloTimeoutMs: 30000, healthTimeoutMs: 10000 }
apps:
  - name: kvd
    argv: [/apps/kvd, --port, "7000"]
    memory: 128MiB
    slotMax: 256MiB
    port: 7000
    endpoint: 17000
    dataDisk: 32MiB
  - name: web
    argv: [/apps/web]
    memory: 64MiB
    hotStandby: false
    port: 8080
`;

describe('toPairConfig', () => {
  it('maps every field the pair uses, with slots in file order and no disk for an app without one', () => {
    expect(toPairConfig(parseConfig(TWO_APPS, 'two-apps.yaml'))).toStrictEqual({
      budgetBytes: 1024 * MiB,
      blockBytes: 4 * MiB,
      monitorBytes: 64 * MiB,
      vmNames: ['alpha', 'beta'],
      baseBytes: 128 * MiB,
      maxMemoryBytes: 4096 * MiB,
      cpus: 2,
      image: { kind: 'builtin' },
      tcgCacheBytes: 16 * MiB,
      heartbeatMs: 250,
      apps: [
        {
          name: 'kvd',
          slot: 'slot0',
          sizeBytes: 128 * MiB,
          slotMaxBytes: 256 * MiB,
          hotStandby: true,
          argv: ['/apps/kvd', '--port', '7000'],
          guestPort: 7000,
          endpointPort: 17000,
          diskBytes: 32 * MiB,
          health: { intervalMs: 1000, timeoutMs: 500, failuresToUnhealthy: 3 },
          restart: { max: 3, windowMs: 60_000 },
        },
        {
          name: 'web',
          slot: 'slot1',
          sizeBytes: 64 * MiB,
          slotMaxBytes: 64 * MiB,
          hotStandby: false,
          argv: ['/apps/web'],
          guestPort: 8080,
          endpointPort: 0,
          health: { intervalMs: 1000, timeoutMs: 500, failuresToUnhealthy: 3 },
          restart: { max: 3, windowMs: 60_000 },
        },
      ],
      stateDir: '/srv/baton',
      isFaultInjectionAllowed: false,
      helloTimeoutMs: 30000,
      healthTimeoutMs: 10000,
      hangThresholds: { heartbeatSilenceMs: 3000, syncTimeoutMs: 1000, qmpTimeoutMs: 2000 },
    });
  });

  it('gives the pair its own argv copy', () => {
    const config = parseConfig(TWO_APPS, 'two-apps.yaml');
    const pair = toPairConfig(config);
    expect(pair.apps[0]?.argv).not.toBe(config.apps[0]?.argv);
  });
});
