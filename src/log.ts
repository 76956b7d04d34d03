// The logger every module takes as a parameter: pino, JSON lines; silent unless asked.
import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { pino } from 'pino';
import { createPrettyStream } from './log-pretty.js';

export type Logger = pino.Logger;

/** A logger that writes nothing: the default for library calls and unit tests. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * The process logger: level from BATON_LOG_LEVEL (default `info`), written to `destination`
 * (default stderr) as JSON lines, or as lines for people when that is a terminal (set
 * BATON_LOG_FORMAT=json to keep JSON there too).
 */
export function createLogger(options: { level?: string; destination?: number } = {}): Logger {
  const level = options.level ?? process.env.BATON_LOG_LEVEL ?? 'info';
  const fd = options.destination ?? 2;
  if (isatty(fd) && process.env.BATON_LOG_FORMAT !== 'json') {
    return pino(
      { level, base: { pid: process.pid } },
      createPrettyStream((text) => writeSync(fd, text)),
    );
  }
  return pino({ level, base: { pid: process.pid } }, pino.destination(fd));
}
