// `baton failover` through main is in main.test.ts; here the command alone, its parsing and its requests.
import { describe, expect, it } from 'vitest';
import {
  buildFailoverCommand,
  DEFAULT_WAIT_TIMEOUT_MS,
  exitCodeOfResult,
  parseTimeoutMs,
} from '../../../src/cli/failover-command.js';
import type { FailoverView } from '../../../src/daemon/events.js';
import type { FailoverWaitView } from '../../../src/daemon/failover-wait.js';
import { ConflictError } from '../../../src/errors.js';
import { serveFakeDaemon } from './fake-daemon.js';

const record: FailoverView = {
  id: 'a1-b',
  kind: 'app',
  trigger: 'operator request',
  app: 'kvd',
  fromVm: 'vm-a',
  toVm: 'vm-b',
  startedAt: '2026-12-06T05:00:00.000Z',
  totalMs: 300,
  result: 'failed',
  error: 'plug: timeout',
  phases: [{ name: 'plug', ms: 300 }],
};

/** Runs `failover ARGS` against `stateDir`; returns what it printed, its progress and its exit code. */
async function run(stateDir: string, args: string[], isJson = false) {
  const printed: string[] = [];
  const progress: string[] = [];
  let exitCode: number | undefined;
  const command = buildFailoverCommand({
    stateDir: () => stateDir,
    isJson: () => isJson,
    print: (line) => printed.push(line),
    progress: (line) => progress.push(line),
    exit: (code) => {
      exitCode = code;
      return undefined as never;
    },
  }).exitOverride();
  await command.parseAsync(args, { from: 'user' });
  return { printed, progress, exitCode };
}

describe('failover command parsing', () => {
  it.each(['0', '-1', '1.5', 'abc', '', '600001', '1e3x'])('refuses --timeout-ms %j', (text) => {
    expect(() => parseTimeoutMs(text)).toThrow(
      `Invalid --timeout-ms: expected a whole number from 1 to 600000, got '${text}'`,
    );
  });

  it('accepts 1 and the longest wait the daemon allows', () => {
    expect([parseTimeoutMs('1'), parseTimeoutMs('600000')]).toEqual([1, 600_000]);
  });

  it('exits 0 only for a succeeded failover', () => {
    expect(['succeeded', 'failed', 'blocked', 'running'].map(exitCodeOfResult)).toEqual([0, 1, 1, 1]);
  });
});

describe('baton failover', () => {
  it('starts a move of one app and says how to follow it', async () => {
    const asked: unknown[] = [];
    const stateDir = await serveFakeDaemon({
      failover: async (request) => {
        asked.push(request);
        return { id: 'f9', joined: false };
      },
    });
    const { printed } = await run(stateDir, ['--app', 'kvd']);
    expect(asked).toEqual([{ app: 'kvd' }]);
    expect(printed).toEqual(['failover f9 started: follow it with `baton history`']);
  });

  it('says when it joined a failover already under way, and prints JSON with --json', async () => {
    const stateDir = await serveFakeDaemon({ failover: async () => ({ id: 'f9', joined: true }) });
    expect((await run(stateDir, [])).printed).toEqual([
      'failover f9 already under way: follow it with `baton history`',
    ]);
    expect(JSON.parse((await run(stateDir, [], true)).printed[0] ?? '')).toEqual({ id: 'f9', joined: true });
  });

  it('refuses --timeout-ms without --wait before asking the daemon', async () => {
    const stateDir = await serveFakeDaemon({ failover: async () => expect.fail('no request expected') });
    await expect(run(stateDir, ['--timeout-ms', '5'])).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: '--timeout-ms goes with --wait',
    });
  });

  it('waits for the record with the default timeout and exits 1 with its error when it failed', async () => {
    const waits: Array<[string, number]> = [];
    const stateDir = await serveFakeDaemon({
      failover: async () => ({ id: 'a1-b', joined: false }),
      failoverResult: async (id, waitMs): Promise<FailoverWaitView> => {
        waits.push([id, waitMs]);
        return { id, result: 'failed', phase: null, record };
      },
    });
    const { printed, progress, exitCode } = await run(stateDir, ['--wait']);
    expect(waits).toEqual([['a1-b', DEFAULT_WAIT_TIMEOUT_MS]]);
    expect(progress).toEqual([`failover a1-b started; waiting up to ${DEFAULT_WAIT_TIMEOUT_MS} ms ...`]);
    expect(printed[0]?.split('\n')[0]).toBe('failover a1-b failed: plug: timeout');
    expect(exitCode).toBe(1);
  });

  it('throws a wait timeout naming the phase when the daemon’s wait ended first', async () => {
    const stateDir = await serveFakeDaemon({
      failoverResult: async (id) => ({ id, result: 'running', phase: 'plug:kvd', record: null }),
    });
    await expect(run(stateDir, ['--wait', '--timeout-ms', '40'], true)).rejects.toMatchObject({
      code: 'WAIT_TIMEOUT',
      failoverId: 'f1',
      phase: 'plug:kvd',
    });
  });

  it('passes the daemon’s refusal on with its code', async () => {
    const stateDir = await serveFakeDaemon({
      failover: async () => {
        throw new ConflictError('Cannot fail over: the pair is blocked');
      },
    });
    await expect(run(stateDir, [])).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'Cannot fail over: the pair is blocked',
    });
  });
});
