// The logger every module takes as a parameter: pino, as JSON lines for a service or lines for people.
import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { pino } from 'pino';
import { createPrettyStream } from './log-pretty.js';

export type Logger = pino.Logger;

export type LogFormat = 'json' | 'text';

/** A logger that writes nothing: the default for library calls and unit tests. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * How log lines are written. `BATON_LOG_FORMAT=json` or `text` decides; otherwise JSON only for a
 * service: a process systemd started (it sets `INVOCATION_ID`), or the daemon (`isDaemon`) with
 * its stderr not a terminal (a supervisor or a log collector reads it). Everything else (the demo,
 * the CLI, `baton up` on a terminal) prints lines for people, also into a pipe or a file.
 */
export function resolveLogFormat(fields: {
  env: NodeJS.ProcessEnv;
  isTerminal: boolean;
  isDaemon: boolean;
}): LogFormat {
  const asked = fields.env.BATON_LOG_FORMAT;
  if (asked === 'json' || asked === 'text') return asked;
  const isSystemdUnit = (fields.env.INVOCATION_ID ?? '') !== '';
  return isSystemdUnit || (fields.isDaemon && !fields.isTerminal) ? 'json' : 'text';
}

/**
 * The process logger: level from BATON_LOG_LEVEL (default `info`), written to `destination`
 * (default stderr) in the format `resolveLogFormat` picks.
 */
export function createLogger(
  options: { level?: string; destination?: number; isDaemon?: boolean; env?: NodeJS.ProcessEnv } = {},
): Logger {
  const env = options.env ?? process.env;
  const level = options.level ?? env.BATON_LOG_LEVEL ?? 'info';
  const fd = options.destination ?? 2;
  const format = resolveLogFormat({ env, isTerminal: isatty(fd), isDaemon: options.isDaemon === true });
  if (format === 'text') {
    return pino(
      { level, base: { pid: process.pid } },
      createPrettyStream((text) => writeSync(fd, text)),
    );
  }
  // Written synchronously: a daemon killed at any instruction (SIGKILL, a crash point) keeps every line it logged.
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: fd, sync: true }));
}
