// Log lines for people: pino's JSON turned into `12:00:01.250 WARN vm-a: message key=value` on a terminal.
import { Writable } from 'node:stream';

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const HIDDEN_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'vm', 'app', 'failoverId']);

/** Formats one pino JSON line; a line that is not JSON is returned as it is. */
export function formatLogLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time =
    typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 23) : '--:--:--.---';
  const level = LEVEL_NAMES[Number(record.level)] ?? String(record.level);
  const scope = [
    record.vm,
    record.app,
    typeof record.failoverId === 'string' ? record.failoverId.slice(0, 8) : undefined,
  ]
    .filter((part) => typeof part === 'string')
    .join('/');
  const fields = Object.entries(record)
    .filter(([key]) => !HIDDEN_KEYS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [time, level.padEnd(5), scope === '' ? '' : `${scope}:`, String(record.msg ?? ''), ...fields]
    .filter((p) => p !== '')
    .join(' ');
}

/** A stream pino can write to that prints formatted lines to `fd`. */
export function createPrettyStream(write: (text: string) => void): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      pending += chunk.toString('utf8');
      for (let newline = pending.indexOf('\n'); newline !== -1; newline = pending.indexOf('\n')) {
        write(`${formatLogLine(pending.slice(0, newline))}\n`);
        pending = pending.slice(newline + 1);
      }
      callback();
    },
  });
}
