// The sample scripts and the resource agent pass shellcheck; the health probe's exit codes against a scripted baton.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../src/paths.js';

const SCRIPTS = join(PACKAGE_ROOT, 'contrib', 'scripts');
const FAKE_BATON = join(PACKAGE_ROOT, 'test', 'fixtures', 'fake-baton');
const hasShellcheck = existsSync('/usr/bin/shellcheck');
const hasJq = existsSync('/usr/bin/jq');
if (!hasShellcheck)
  console.warn('skipping shellcheck of the scripts: shellcheck is missing (make setup installs it)');
if (!hasJq) console.warn('skipping the health probe tests: jq is missing (make setup installs it)');

const dir = mkdtempSync(join(tmpdir(), 'baton-scripts-unit-'));
const statusFile = join(dir, 'status.json');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasShellcheck)('shellcheck', { timeout: 60_000 }, () => {
  it.each([
    ['contrib/ocf/baton', 'sh'],
    ['contrib/scripts/health-probe.sh', 'bash'],
    ['contrib/scripts/failover-report.sh', 'bash'],
    ['contrib/scripts/maintenance-active.sh', 'bash'],
    ['test/fixtures/fake-baton', 'sh'],
  ])('finds nothing in %s', async (file, shell) => {
    const result = await execa('shellcheck', ['-s', shell, join(PACKAGE_ROOT, file)], { reject: false });
    expect(result.stdout).toBe('');
    expect(result.exitCode).toBe(0);
  });
});

function probe(status: object | null, exit = 0, args: string[] = []) {
  if (status !== null) writeFileSync(statusFile, `${JSON.stringify(status, null, 2)}\n`);
  return execa(join(SCRIPTS, 'health-probe.sh'), ['--state-dir', dir, ...args], {
    reject: false,
    env: { BATON: FAKE_BATON, FAKE_BATON_STATUS: statusFile, FAKE_BATON_EXIT: String(exit) },
  });
}

const statusOf = (state: string, heartbeatAgeMs = 200, blockedReason: string | null = null) => ({
  epoch: 7,
  state,
  blocked: state === 'blocked',
  blockedReason,
  vms: [
    { name: 'vm-a', role: 'active', state: 'running', heartbeatAgeMs },
    { name: 'vm-b', role: 'standby', state: 'running', heartbeatAgeMs: 100 },
  ],
  apps: [{ name: 'kvd', vm: 'vm-a', state: state === 'failing-over' ? 'waiting' : 'running' }],
});

describe.skipIf(!hasJq)('health-probe.sh', { timeout: 60_000 }, () => {
  it.each([
    [
      statusOf('protected'),
      0,
      0,
      'BATON OK - pair protected, active vm-a | heartbeat_age_ms=200;3000 epoch=7',
    ],
    [statusOf('protected', 5000), 0, 1, 'BATON WARNING - pair protected, but a heartbeat is 5000 ms old'],
    [statusOf('unprotected'), 0, 1, 'BATON WARNING - pair unprotected, active vm-a |'],
    [statusOf('failing-over'), 0, 1, 'BATON WARNING - pair failing-over, active vm-a, waiting: kvd |'],
    [
      statusOf('blocked', 200, 'Cannot confirm that vm-a is stopped'),
      0,
      2,
      'BATON CRITICAL - pair blocked: Cannot confirm that vm-a is stopped',
    ],
    [null, 4, 2, `BATON CRITICAL - no baton daemon runs on ${dir}`],
    [
      { error: { code: 'ECONNRESET', message: 'read ECONNRESET' } },
      1,
      3,
      'BATON UNKNOWN - baton status failed (exit 1): read ECONNRESET',
    ],
  ])('%j (baton exit %i) → exit %i', async (status, batonExit, exitCode, line) => {
    const result = await probe(status, batonExit);
    expect(result.exitCode).toBe(exitCode);
    expect(result.stdout).toContain(line);
    expect(result.stdout.split('\n')).toHaveLength(1);
  });

  it('is UNKNOWN when baton is not installed', async () => {
    const result = await execa(join(SCRIPTS, 'health-probe.sh'), [], {
      reject: false,
      env: { BATON: '/nonexistent/baton' },
    });
    expect(result).toMatchObject({
      exitCode: 3,
      stdout: 'BATON UNKNOWN - /nonexistent/baton is not installed',
    });
  });
});
