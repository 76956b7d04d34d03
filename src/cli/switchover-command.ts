// `baton switchover` (planned, no fence; waits for the record) and `baton maintenance on|off`.
import { Command, Option } from 'commander';
import type { HistoryView, MaintenanceView, StatusView } from '../daemon/views.js';
import { callApi } from './client.js';
import { renderMaintenance, renderTimeline } from './render.js';

interface Deps {
  stateDir: () => string;
  show: <T>(value: T, human: (value: T) => string) => void;
  /** The error that ends the command with `code` after it printed its own explanation. */
  exitWith: (code: number) => Error;
  parseCount: (text: string, what: string) => number;
}

const POLL_MS = 250;

/**
 * Starts the switchover and waits for its record: exit 0 when it succeeded, 1 when it failed
 * (its apps were moved back) or blocked the pair, or when `--timeout-ms` passed first (the
 * switchover itself goes on); refused before anything changed: exit 5 with the reason.
 */
export function buildSwitchoverCommand(deps: Deps): Command {
  return new Command('switchover')
    .exitOverride()
    .description(
      'planned switchover, no fence: move every hot-standby app to the standby, swap the roles, keep the old active running small as the standby',
    )
    .addOption(
      new Option('--timeout-ms <ms>', 'how long to wait for the record')
        .default(600_000)
        .argParser((text) => deps.parseCount(text, '--timeout-ms')),
    )
    .action(async (options: { timeoutMs: number }) => {
      const { id } = (await callApi(deps.stateDir(), 'POST', '/v1/switchover', {})) as { id: string };
      const startedAtMs = performance.now();
      for (;;) {
        const history = (await callApi(deps.stateDir(), 'GET', '/v1/history')) as HistoryView;
        const record = history.find((r) => r.id === id);
        // Settled: the record is closed and the ordinary apps are off the old active.
        const status =
          record === undefined || record.result === 'running'
            ? undefined
            : ((await callApi(deps.stateDir(), 'GET', '/v1/status')) as StatusView);
        if (record !== undefined && status !== undefined && status.state !== 'failing-over') {
          const final = ((await callApi(deps.stateDir(), 'GET', '/v1/history')) as HistoryView).find(
            (r) => r.id === id,
          );
          if (final === undefined) throw deps.exitWith(1);
          deps.show(final, (r) =>
            [renderTimeline(r), ...(r.error === null ? [] : [`error: ${r.error}`])].join('\n'),
          );
          if (final.result !== 'succeeded') throw deps.exitWith(1);
          return;
        }
        if (performance.now() - startedAtMs > options.timeoutMs) {
          deps.show(
            { id, result: 'running', timedOutAfterMs: options.timeoutMs },
            () =>
              `switchover ${id} still running after ${options.timeoutMs} ms: follow it with \`baton history\``,
          );
          throw deps.exitWith(1);
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    });
}

/** `baton maintenance on|off`: saved by the daemon before it answers; prints the maintenance state. */
export function buildMaintenanceCommand(deps: Deps): Command {
  return new Command('maintenance')
    .exitOverride()
    .description('hold automatic failovers (on) or act again, on the faults that still stand (off)')
    .addArgument(new Command().createArgument('<state>', 'on or off').choices(['on', 'off']))
    .action(async (state: 'on' | 'off') => {
      const view = (await callApi(deps.stateDir(), 'POST', '/v1/maintenance', {
        on: state === 'on',
      })) as MaintenanceView;
      deps.show(view, (v) => renderMaintenance(v).join('\n') || 'maintenance: off');
    });
}
