// `baton failover [--app NAME] [--wait [--timeout-ms N]]`: starts (or joins) a failover, and can wait for its record.
import { Command } from 'commander';
import type { FailoverWaitView } from '../daemon/failover-wait.js';
import { MAX_FAILOVER_WAIT_MS } from '../daemon/failover-wait.js';
import { FailoverWaitTimeoutError, InvalidInputError } from '../errors.js';
import { callApi } from './client.js';
import { EXIT } from './exit.js';
import { renderTimeline } from './render.js';

export const DEFAULT_WAIT_TIMEOUT_MS = 120_000;
/** The HTTP request outlives the daemon's own wait by this much, so the daemon's answer arrives. */
const ANSWER_MARGIN_MS = 10_000;

/** Parses --timeout-ms: a whole number of milliseconds the daemon may wait for. */
export function parseTimeoutMs(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_FAILOVER_WAIT_MS)
    throw new InvalidInputError(
      `Invalid --timeout-ms: expected a whole number from 1 to ${MAX_FAILOVER_WAIT_MS}, got '${text}'`,
    );
  return value;
}

/** The exit code of a finished failover: 0 when it succeeded, 1 when it failed or left the pair blocked. */
export function exitCodeOfResult(result: string): number {
  return result === 'succeeded' ? EXIT.ok : EXIT.failed;
}

export function buildFailoverCommand(deps: {
  stateDir: () => string;
  isJson: () => boolean;
  print: (line: string) => void;
  progress: (line: string) => void;
  /** Ends the command with this exit code once it has printed its result. */
  exit: (code: number) => never;
}): Command {
  return new Command('failover')
    .description(
      'fail the active VM over to the standby now, or with --app move that app alone; --wait returns the finished record',
    )
    .option('--app <name>', 'move only this app')
    .option('--wait', 'wait for the failover to finish and print its record (exit 0 succeeded, 1 failed)')
    .option('--timeout-ms <ms>', `how long --wait waits (default ${DEFAULT_WAIT_TIMEOUT_MS})`, parseTimeoutMs)
    .action(async (options: { app?: string; wait?: boolean; timeoutMs?: number }) => {
      if (options.timeoutMs !== undefined && options.wait !== true)
        throw new InvalidInputError('--timeout-ms goes with --wait');
      const body = options.app === undefined ? {} : { app: options.app };
      const started = (await callApi(deps.stateDir(), 'POST', '/v1/failover', body)) as {
        id: string;
        joined: boolean;
      };
      if (options.wait !== true) {
        deps.print(
          deps.isJson()
            ? JSON.stringify(started, null, 2)
            : `failover ${started.id} ${started.joined ? 'already under way' : 'started'}: follow it with \`baton history\``,
        );
        return;
      }
      const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
      if (!deps.isJson())
        deps.progress(
          `failover ${started.id} ${started.joined ? 'already under way' : 'started'}; waiting up to ${timeoutMs} ms ...`,
        );
      const waited = (await callApi(
        deps.stateDir(),
        'GET',
        `/v1/failovers/${encodeURIComponent(started.id)}?waitMs=${timeoutMs}`,
        undefined,
        timeoutMs + ANSWER_MARGIN_MS,
      )) as FailoverWaitView;
      if (waited.record === null)
        throw new FailoverWaitTimeoutError({ failoverId: started.id, phase: waited.phase, timeoutMs });
      const record = waited.record;
      deps.print(
        deps.isJson()
          ? JSON.stringify(record, null, 2)
          : [
              `failover ${record.id} ${record.result}${record.error === null ? '' : `: ${record.error}`}`,
              renderTimeline(record),
            ].join('\n'),
      );
      const code = exitCodeOfResult(record.result);
      if (code !== EXIT.ok) deps.exit(code);
    });
}
