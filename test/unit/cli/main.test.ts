import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { buildApi, type Controller, listenOnSocket } from '../../../src/daemon/api.js';
import { EventBus, type FailoverView } from '../../../src/daemon/events.js';
import type { FailoverWaitView } from '../../../src/daemon/failover-wait.js';
import { ConflictError } from '../../../src/errors.js';
import { createSilentLogger } from '../../../src/log.js';
import { PACKAGE_ROOT } from '../../../src/paths.js';
import { fakeController } from '../../helpers/fake-controller.js';

const recordOf = (result: string): FailoverView => ({
  id: 'f1',
  kind: 'whole-vm',
  trigger: 'request on vm-a',
  app: null,
  fromVm: 'vm-a',
  toVm: 'vm-b',
  startedAt: '2026-12-06T05:00:00.000Z',
  totalMs: 700,
  result,
  error: result === 'succeeded' ? null : 'fence failed',
  phases: [{ name: 'fence', ms: 13 }],
});

/** What the fake daemon answers next. */
const next: { failover: () => Promise<{ id: string; joined: boolean }>; wait: FailoverWaitView } = {
  failover: async () => ({ id: 'f1', joined: false }),
  wait: { id: 'f1', result: 'succeeded', phase: null, record: recordOf('succeeded') },
};
const waits: number[] = [];
const stateDir = mkdtempSync(join(tmpdir(), 'baton-main-'));
const bus = new EventBus();
const controller: Controller = fakeController(bus, {
  failover: () => next.failover(),
  failoverResult: async (_id, waitMs) => {
    waits.push(waitMs);
    return next.wait;
  },
});
const api = buildApi(controller, createSilentLogger());

beforeAll(() => listenOnSocket(api, join(stateDir, 'baton.sock')));
afterAll(async () => {
  await api.close();
  rmSync(stateDir, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

/** Runs `baton ARGS` on the fake daemon's state directory in this process. */
const baton = (...args: string[]) => batonOn(stateDir, ...args);

/** Runs `baton --state-dir DIR ARGS` in this process; returns its exit code and what it printed. */
async function batonOn(dir: string, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const exitCode = await main(['node', 'baton', '--state-dir', dir, ...args]);
  vi.restoreAllMocks();
  return { exitCode, stdout, stderr };
}

describe('baton failover --wait', () => {
  it('prints the finished record and exits 0 when the failover succeeded', async () => {
    next.wait = { id: 'f1', result: 'succeeded', phase: null, record: recordOf('succeeded') };
    const result = await baton('--json', 'failover', '--wait', '--timeout-ms', '30000');
    expect(result).toMatchObject({ exitCode: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual(recordOf('succeeded'));
    expect(waits.at(-1)).toBe(30000);
  });

  it('exits 1 with the record when the failover failed', async () => {
    next.wait = { id: 'f1', result: 'blocked', phase: null, record: recordOf('blocked') };
    const result = await baton('--json', 'failover', '--wait');
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ result: 'blocked', error: 'fence failed' });
    expect(waits.at(-1)).toBe(120_000);
  });

  it('exits 1 past its timeout with the phase the failover is in', async () => {
    next.wait = { id: 'f1', result: 'running', phase: 'plug', record: null };
    const result = await baton('--json', 'failover', '--wait', '--timeout-ms', '50');
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      error: expect.objectContaining({ code: 'WAIT_TIMEOUT', failoverId: 'f1', phase: 'plug' }),
    });
    const human = await baton('failover', '--wait', '--timeout-ms', '50');
    expect(human.exitCode).toBe(1);
    expect(human.stderr).toContain(
      'Timed out after 50 ms waiting for failover f1 to finish; last seen: phase plug',
    );
  });

  it('exits 5 with a JSON error when the daemon refuses', async () => {
    next.failover = async () => {
      throw new ConflictError('Cannot fail over: the pair is blocked');
    };
    try {
      const result = await baton('--json', 'failover', '--wait');
      expect(result.exitCode).toBe(5);
      expect(JSON.parse(result.stdout)).toEqual({
        error: { code: 'CONFLICT', message: 'Cannot fail over: the pair is blocked' },
      });
    } finally {
      next.failover = async () => ({ id: 'f1', joined: false });
    }
  });
});

describe('the CLI for scripts', () => {
  it('prints its version from package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
    const result = await baton('--version');
    expect(result).toEqual({ exitCode: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('prints argument errors as JSON on stdout with exit 2, and nothing on stderr', async () => {
    const result = await baton('--json', 'inject', '--fault', 'melt');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout).error).toEqual({
      code: 'INVALID_INPUT',
      message: expect.stringContaining("option '--fault <kind>' argument 'melt' is invalid"),
    });
  });

  it('says no daemon is running in one line, or as JSON, with exit 4', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'baton-main-empty-'));
    try {
      const message = `No baton daemon is running on ${empty}: start one with \`baton up\``;
      expect(await batonOn(empty, 'status')).toEqual({
        exitCode: 4,
        stdout: '',
        stderr: `baton: ${message}\n`,
      });
      const json = await batonOn(empty, '--json', 'status');
      expect(json.exitCode).toBe(4);
      expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'DAEMON_NOT_RUNNING', message } });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('prints recent events as JSON lines', async () => {
    bus.publish({
      type: 'fault',
      seq: 1,
      at: 'now',
      vm: 'vm-a',
      signal: 'hang',
      app: null,
      action: 'failover',
    });
    const result = await baton('events');
    expect(result.exitCode).toBe(0);
    expect(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual(bus.recent());
  });
});
