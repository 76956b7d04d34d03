import { describe, expect, it } from 'vitest';
import { buildMaintenanceCommand, buildSwitchoverCommand } from '../../../src/cli/switchover-command.js';
import type { FailoverView } from '../../../src/daemon/events.js';
import { EventBus } from '../../../src/daemon/events.js';
import type { StatusView } from '../../../src/daemon/views.js';
import { ConflictError } from '../../../src/errors.js';
import { fakeController } from '../../helpers/fake-controller.js';
import { serveFakeDaemon } from './fake-daemon.js';

const record = (result: string, error: string | null = null): FailoverView => ({
  id: 's1',
  kind: 'switchover',
  trigger: 'operator request',
  app: null,
  fromVm: 'vm-a',
  toVm: 'vm-b',
  startedAt: '2026-12-06T05:00:00.000Z',
  totalMs: 900,
  result,
  error,
  phases: [{ name: 'plug', ms: 900 }],
});

const protectedStatus = fakeController(new EventBus()).status();

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Runs the command built by `build` with `args`; returns what it showed (human form) and the exit it asked for. */
async function run(build: typeof buildSwitchoverCommand, stateDir: string, args: string[]) {
  const shown: Array<{ value: unknown; human: string }> = [];
  const command = build({
    stateDir: () => stateDir,
    show: (value, human) => shown.push({ value, human: human(value) }),
    exitWith: (code) => new Exit(code),
    parseCount: (text, what) => {
      const value = Number(text);
      if (!Number.isSafeInteger(value) || value < 1) throw new Error(`bad ${what}`);
      return value;
    },
  });
  const exit = await command
    .parseAsync(args, { from: 'user' })
    .then(() => undefined)
    .catch((error: unknown) => {
      if (error instanceof Exit) return error.code;
      throw error;
    });
  return { shown, exit };
}

describe('baton switchover', () => {
  it('waits for the record and for the pair to leave failing-over, then shows the timeline and exits 0', async () => {
    const histories = [
      [],
      [record('running')],
      [record('succeeded')],
      [record('succeeded')],
      [record('succeeded')],
    ];
    const statuses: StatusView['state'][] = ['failing-over', 'protected'];
    let historyCalls = 0;
    const stateDir = await serveFakeDaemon({
      history: () => histories[Math.min(historyCalls++, histories.length - 1)] ?? [],
      status: () => ({ ...protectedStatus, state: statuses.shift() ?? 'protected' }),
    });
    const { shown, exit } = await run(buildSwitchoverCommand, stateDir, []);
    expect(exit).toBeUndefined();
    expect(statuses).toEqual([]); // both status answers were asked for
    expect(shown).toHaveLength(1);
    expect(shown[0]?.value).toMatchObject({ id: 's1', result: 'succeeded' });
    expect(shown[0]?.human).toMatch(
      /^failover s1 \(switchover, operator request\): vm-a → vm-b, succeeded in 900 ms\n/,
    );
  }, 10_000);

  it('exits 1 with the error line when the switchover failed', async () => {
    const stateDir = await serveFakeDaemon({ history: () => [record('failed', 'plug: timeout')] });
    const { shown, exit } = await run(buildSwitchoverCommand, stateDir, []);
    expect(exit).toBe(1);
    expect(shown[0]?.human.split('\n').at(-1)).toBe('error: plug: timeout');
  });

  it('exits 1 past --timeout-ms, saying it still runs and how to follow it', async () => {
    const stateDir = await serveFakeDaemon({ history: () => [record('running')] });
    const { shown, exit } = await run(buildSwitchoverCommand, stateDir, ['--timeout-ms', '1']);
    expect(exit).toBe(1);
    expect(shown).toEqual([
      {
        value: { id: 's1', result: 'running', timedOutAfterMs: 1 },
        human: 'switchover s1 still running after 1 ms: follow it with `baton history`',
      },
    ]);
  });

  it('refuses a bad --timeout-ms through the given parser', async () => {
    const stateDir = await serveFakeDaemon();
    await expect(run(buildSwitchoverCommand, stateDir, ['--timeout-ms', '0'])).rejects.toThrow(
      'bad --timeout-ms',
    );
  });

  it('passes the daemon’s refusal on with its code', async () => {
    const stateDir = await serveFakeDaemon({
      switchover: async () => {
        throw new ConflictError('Cannot switch over: the pair is unprotected');
      },
    });
    await expect(run(buildSwitchoverCommand, stateDir, [])).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});

describe('baton maintenance', () => {
  it('asks the daemon to switch it on and shows the state it answers', async () => {
    const asked: boolean[] = [];
    const stateDir = await serveFakeDaemon({
      maintenance: async ({ on }) => {
        asked.push(on);
        return on
          ? { on, since: '2026-12-06T05:00:00.000Z', heldFaults: [] }
          : { on, since: null, heldFaults: [] };
      },
    });
    const on = await run(buildMaintenanceCommand, stateDir, ['on']);
    expect(on.shown[0]?.human).toBe(
      'maintenance: on since 2026-12-06T05:00:00.000Z (automatic failovers held)',
    );
    const off = await run(buildMaintenanceCommand, stateDir, ['off']);
    expect(off.shown[0]?.human).toBe('maintenance: off');
    expect(asked).toEqual([true, false]);
  });

  it('refuses anything but on or off before asking the daemon', async () => {
    const stateDir = await serveFakeDaemon({ maintenance: async () => expect.fail('no request expected') });
    await expect(run(buildMaintenanceCommand, stateDir, ['maybe'])).rejects.toMatchObject({
      code: 'commander.invalidArgument',
    });
  });
});
