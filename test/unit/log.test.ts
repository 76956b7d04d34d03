import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, resolveLogFormat } from '../../src/log.js';

describe('resolveLogFormat', () => {
  it.each([
    // [env, stderr is a terminal, is the daemon, format]
    [{}, true, false, 'text'],
    [{}, false, false, 'text'], // the demo or a CLI command into a pipe: still for people
    [{}, true, true, 'text'], // `baton up` on a terminal
    [{}, false, true, 'json'], // `baton up` under a supervisor or into a log file
    [{ INVOCATION_ID: 'abc' }, true, false, 'json'], // started by systemd
    [{ INVOCATION_ID: '' }, false, false, 'text'],
    [{ BATON_LOG_FORMAT: 'json' }, true, false, 'json'],
    [{ BATON_LOG_FORMAT: 'text' }, false, true, 'text'],
    [{ BATON_LOG_FORMAT: 'text', INVOCATION_ID: 'abc' }, false, true, 'text'],
    [{ BATON_LOG_FORMAT: 'yaml' }, false, true, 'json'], // an unknown value is ignored
  ] as const)('env %j, terminal %s, daemon %s → %s', (env, isTerminal, isDaemon, format) => {
    expect(resolveLogFormat({ env, isTerminal, isDaemon })).toBe(format);
  });
});

describe('createLogger', () => {
  const writeOne = (options: { isDaemon: boolean; env: NodeJS.ProcessEnv }) => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-log-'));
    const file = join(dir, 'log');
    const fd = openSync(file, 'w');
    try {
      const log = createLogger({ level: 'info', destination: fd, ...options });
      log.warn({ vm: 'vm-a', timeoutMs: 2000 }, 'QEMU did not quit');
      log.flush();
      return readFileSync(file, 'utf8');
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('writes lines for people into a file when it is not the daemon', () => {
    expect(writeOne({ isDaemon: false, env: {} })).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} WARN {2}vm-a: QEMU did not quit timeoutMs=2000\n$/,
    );
  });

  it('writes JSON lines into a file when it is the daemon', () => {
    const line = writeOne({ isDaemon: true, env: {} });
    expect(JSON.parse(line)).toMatchObject({ level: 40, vm: 'vm-a', msg: 'QEMU did not quit' });
  });
});
