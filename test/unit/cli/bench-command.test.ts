// `baton bench`'s options only: its action boots real guests (the benchmarks themselves are not unit tests).
import { join } from 'node:path';
import { Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { BENCH_SECTIONS } from '../../../src/bench/sections.js';
import { buildBenchCommand } from '../../../src/cli/bench-command.js';
import { InvalidInputError } from '../../../src/errors.js';
import { PACKAGE_ROOT } from '../../../src/paths.js';

class Parsed extends Error {
  constructor(readonly options: Record<string, unknown>) {
    super('parsed');
  }
}

/** The options `baton bench ARGS` would run with; the action never runs. */
async function optionsOf(args: string[]): Promise<Record<string, unknown>> {
  const counted: string[] = [];
  const command = buildBenchCommand({
    accelOption: () => new Option('--accel <mode>').default('auto'),
    parseCount: (text, what) => {
      counted.push(what);
      const value = Number(text);
      if (!Number.isSafeInteger(value) || value < 1)
        throw new InvalidInputError(`Invalid ${what}: '${text}'`);
      return value;
    },
    isJson: () => false,
  })
    .exitOverride()
    .hook('preAction', (_command, action) => {
      throw new Parsed({ ...action.opts(), counted });
    });
  const error = await command.parseAsync(args, { from: 'user' }).catch((e: unknown) => e);
  if (error instanceof Parsed) return error.options;
  throw error;
}

describe('baton bench options', () => {
  it('defaults to 5 runs, every section, the full scaling and the results folder', async () => {
    expect(await optionsOf([])).toEqual({
      accel: 'auto',
      runs: 5,
      quick: false,
      only: [...BENCH_SECTIONS],
      out: join(PACKAGE_ROOT, 'bench', 'results'),
      counted: [],
    });
  });

  it('takes counts through the given parser, naming each option', async () => {
    const options = await optionsOf(['--runs', '3', '--scaling-runs', '2', '--quick', '--out', '/tmp/r']);
    expect(options).toMatchObject({ runs: 3, scalingRuns: 2, quick: true, out: '/tmp/r' });
    expect(options.counted).toEqual(['--runs', '--scaling-runs']);
    await expect(optionsOf(['--runs', '0'])).rejects.toThrow("Invalid --runs: '0'");
  });

  it('takes a subset of sections, trimming spaces', async () => {
    const [first, second] = BENCH_SECTIONS;
    expect((await optionsOf(['--only', ` ${second}, ${first}`])).only).toEqual([second, first]);
  });

  it('refuses an unknown section, listing the known ones and naming the unknown', async () => {
    await expect(optionsOf(['--only', `${BENCH_SECTIONS[0]},warp,x`])).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: `Invalid --only: expected some of ${BENCH_SECTIONS.join(', ')}, got 'warp,x'`,
    });
  });
});
