import { describe, expect, it } from 'vitest';
import { createPrettyStream, formatLogLine } from '../../src/log-pretty.js';

describe('formatLogLine', () => {
  it('prints time, level, scope, message and the other fields', () => {
    const line = JSON.stringify({
      level: 40,
      time: Date.UTC(2026, 0, 1, 12, 0, 1, 250),
      pid: 7,
      vm: 'vm-a',
      failoverId: '0123456789abcdef',
      msg: 'QEMU did not quit',
      timeoutMs: 2000,
      trigger: { signal: 'hang' },
    });
    expect(formatLogLine(line)).toBe(
      '12:00:01.250 WARN  vm-a/01234567: QEMU did not quit timeoutMs=2000 trigger={"signal":"hang"}',
    );
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(formatLogLine('plain text')).toBe('plain text');
  });

  it('formats whole lines from a stream that splits them', async () => {
    const out: string[] = [];
    const stream = createPrettyStream((text) => out.push(text));
    const line = JSON.stringify({ level: 30, time: Date.UTC(2026, 0, 1), msg: 'up' });
    await new Promise<void>((resolve) => stream.write(line.slice(0, 10), () => resolve()));
    expect(out).toEqual([]);
    await new Promise<void>((resolve) => stream.write(`${line.slice(10)}\n`, () => resolve()));
    expect(out).toEqual(['00:00:00.000 INFO  up\n']);
  });
});
