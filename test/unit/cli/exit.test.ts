import { describe, expect, it } from 'vitest';
import { ApiError, DaemonNotRunningError } from '../../../src/cli/client.js';
import { describeFailure, isJsonRequested } from '../../../src/cli/exit.js';
import { FailoverWaitTimeoutError, InvalidInputError } from '../../../src/errors.js';

describe('describeFailure', () => {
  it.each([
    [new DaemonNotRunningError('/s'), 4, 'DAEMON_NOT_RUNNING'],
    [new ApiError(409, 'CONFLICT', 'Cannot fail over: the pair is blocked'), 5, 'CONFLICT'],
    [new ApiError(404, 'NOT_FOUND', "Unknown app 'x'"), 5, 'NOT_FOUND'],
    [new InvalidInputError('Invalid size'), 2, 'INVALID_INPUT'],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 1, 'ECONNRESET'],
    [Object.assign(new Error('odd'), { code: 'not-stable' }), 1, 'FAILED'],
    [new Error('plain'), 1, 'FAILED'],
  ])('%s → exit %i, code %s', (error, exitCode, code) => {
    const failure = describeFailure(error);
    expect(failure).toEqual({ exitCode, json: { code, message: error.message } });
  });

  it("turns commander's argument errors into INVALID_INPUT without commander's prefix", () => {
    const error = Object.assign(new Error("error: unknown command 'bogus'"), {
      code: 'commander.unknownCommand',
    });
    expect(describeFailure(error)).toEqual({
      exitCode: 2,
      json: { code: 'INVALID_INPUT', message: "unknown command 'bogus'" },
    });
  });

  it('adds the failover and its phase to a --wait timeout', () => {
    const error = new FailoverWaitTimeoutError({ failoverId: 'f1', phase: 'plug:kvd', timeoutMs: 5 });
    expect(describeFailure(error)).toEqual({
      exitCode: 1,
      json: {
        code: 'WAIT_TIMEOUT',
        message:
          'Timed out after 5 ms waiting for failover f1 to finish; last seen: phase plug:kvd; the failover goes on: follow it with `baton events --follow` or `baton history`',
        failoverId: 'f1',
        phase: 'plug:kvd',
      },
    });
  });
});

describe('isJsonRequested', () => {
  it.each([
    [['--json', 'status'], true],
    [['status', '--json'], true],
    [['status'], false],
    [['check-config', '--', '--json'], false],
  ])('%j → %s', (args, expected) => {
    expect(isJsonRequested(args)).toBe(expected);
  });
});
