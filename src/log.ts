// The logger every module takes as a parameter: pino, JSON lines; silent unless asked.
import { pino } from 'pino';

export type Logger = pino.Logger;

/** A logger that writes nothing: the default for library calls and unit tests. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** The process logger: level from BATON_LOG_LEVEL (default `info`), written to `destination` (default stderr). */
export function createLogger(options: { level?: string; destination?: number } = {}): Logger {
  const level = options.level ?? process.env.BATON_LOG_LEVEL ?? 'info';
  return pino({ level, base: { pid: process.pid } }, pino.destination(options.destination ?? 2));
}
