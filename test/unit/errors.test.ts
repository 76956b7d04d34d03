import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.js';
import {
  BatonError,
  FailoverWaitTimeoutError,
  isBatonError,
  MemoryStuckError,
  NativeLoadError,
  NotFoundError,
  QmpDisconnectedError,
  StatePhaseUnknownError,
  VmLaunchError,
  WaitTimeoutError,
} from '../../src/errors.js';

const errorClasses = Object.entries(errors).filter(
  (entry): entry is [string, typeof BatonError] =>
    typeof entry[1] === 'function' && (entry[1] === BatonError || entry[1].prototype instanceof BatonError),
);

describe('the error hierarchy', () => {
  it('gives every class its own name, so logs and --json name the right class', () => {
    expect(errorClasses.length).toBeGreaterThan(30);
    for (const [exported, errorClass] of errorClasses) {
      expect(Object.hasOwn(errorClass.prototype, 'name'), `${exported}.prototype.name is set`).toBe(true);
      expect(errorClass.prototype.name).toBe(exported);
    }
  });

  it('tells baton errors by code, and nothing else', () => {
    const error = new NotFoundError('no app x');
    expect([isBatonError(error), isBatonError(error, 'NOT_FOUND'), isBatonError(error, 'CONFLICT')]).toEqual([
      true,
      true,
      false,
    ]);
    const lookalike = Object.assign(new Error('x'), { code: 'NOT_FOUND' });
    expect([isBatonError(lookalike), isBatonError('NOT_FOUND'), isBatonError(undefined)]).toEqual([
      false,
      false,
      false,
    ]);
  });

  it('keeps the cause', () => {
    const cause = new Error('EIO');
    expect(new BatonError('X', 'failed', { cause }).cause).toBe(cause);
  });
});

describe('messages with their numbers and context', () => {
  it('a wait says what, how long, what it saw last and the hint, each only when known', () => {
    expect(new WaitTimeoutError({ waitedFor: 'hello from vm-a', timeoutMs: 100 }).message).toBe(
      'Timed out after 100 ms waiting for hello from vm-a',
    );
    const full = new WaitTimeoutError({ waitedFor: 'x', timeoutMs: 5, lastSeen: '3 MiB', hint: 'try y' });
    expect(full.message).toBe('Timed out after 5 ms waiting for x; last seen: 3 MiB; try y');
    expect(full).toMatchObject({ code: 'WAIT_TIMEOUT', waitedFor: 'x', timeoutMs: 5, lastSeen: '3 MiB' });
  });

  it('a failover wait says the phase, or that none began, and gives its JSON context', () => {
    const inPlug = new FailoverWaitTimeoutError({ failoverId: 'f1', phase: 'plug', timeoutMs: 50 });
    expect(inPlug.message).toBe(
      'Timed out after 50 ms waiting for failover f1 to finish; last seen: phase plug; the failover goes on: follow it with `baton events --follow` or `baton history`',
    );
    expect(inPlug).toBeInstanceOf(WaitTimeoutError);
    expect(inPlug.code).toBe('WAIT_TIMEOUT');
    expect(inPlug.jsonContext()).toEqual({ failoverId: 'f1', phase: 'plug' });
    expect(new FailoverWaitTimeoutError({ failoverId: 'f1', phase: null, timeoutMs: 1 }).lastSeen).toBe(
      'no phase begun yet',
    );
  });

  it('a lost QMP connection names the pending command when there was one', () => {
    expect(new QmpDisconnectedError({ vm: 'vm-a', command: 'stop' }).message).toBe(
      'QMP stop lost on vm-a: the connection closed',
    );
    expect(new QmpDisconnectedError({ vm: 'vm-a' }).message).toBe(
      'QMP connection lost on vm-a: the connection closed',
    );
  });

  it('a launch failure gives the exit code or signal, the full argv and the log tail', () => {
    const base = { vm: 'vm-b', detail: 'exited early', argv: ['qemu', '-m', '96'], logTail: 'kvm: no' };
    expect(new VmLaunchError({ ...base, exitCode: 1, signal: null }).message).toBe(
      'QEMU for vm-b failed to start: exited early (exit code 1)\nargv: qemu -m 96\nlog tail:\nkvm: no',
    );
    expect(new VmLaunchError({ ...base, exitCode: null, signal: 'SIGKILL' }).message).toContain(
      '(signal SIGKILL)',
    );
  });

  it('a native load failure lists each path once, with the first line of its error', () => {
    const error = new NativeLoadError([
      { path: '/a/x.node', error: new Error('/a/x.node: cannot open shared object file\nmore') },
      { path: '/b/x.node', error: new Error('wrong ELF class') },
    ]);
    expect(error.message).toBe(
      'Native addon baton_native.node could not be loaded from 2 path(s):\n  /a/x.node: cannot open shared object file\n  /b/x.node: wrong ELF class\nBuild it with `make build` (or `npm run build:native`)',
    );
  });

  it('a stuck plug prints sizes in MiB to one decimal and times in whole ms', () => {
    const error = new MemoryStuckError({
      vm: 'vm-b',
      slot: 'slot0',
      operation: 'plug',
      requestedBytes: 256 * 1048576,
      pluggedBytes: 100.25 * 1048576,
      stalledMs: 1999.6,
      elapsedMs: 5000.4,
      lastSeenBy: 'poll',
      lastSeenAtMs: 1,
    });
    expect(error.message).toBe(
      'Memory plug stuck on vm-b slot0: 100.3 MiB plugged of 256 MiB requested, no progress for 2000 ms (5000 ms since the request; last seen by poll)',
    );
  });

  it('an unknown phase and an unknown mark are named as what they are, with the known list', () => {
    const fields = {
      file: 'state.json',
      schemaVersion: 1,
      supportedVersion: 1,
      phase: 'prewarm',
      operationId: 'op-1',
      known: ['fence', 'plug'],
    };
    expect(new StatePhaseUnknownError(fields).message).toBe(
      "state.json (state schema version 1) has operation op-1 at phase 'prewarm', which this baton (state schema version 1, phases fence, plug) does not know: it was written by another version; refusing to read it",
    );
    expect(new StatePhaseUnknownError({ ...fields, field: 'mark', known: ['undo'] }).message).toContain(
      "at a step marked 'prewarm', which this baton (state schema version 1, marks undo)",
    );
  });
});
