// The Pacemaker resource agent against a real baton and the built-in busybox pair: ocf-tester's
// whole run, then monitor through a failover (protected → degraded while re-protecting → protected).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { qemuPidsUnder } from '../helpers/audit.js';

const AGENT = join(PACKAGE_ROOT, 'contrib', 'ocf', 'baton');
const BATON = join(PACKAGE_ROOT, 'bin', 'baton.js');
const CONFIG = join(PACKAGE_ROOT, 'contrib', 'baton.yaml');
const OCF_TESTER = '/usr/sbin/ocf-tester';
const hasOcfTester = existsSync(OCF_TESTER);
if (!hasOcfTester)
  console.warn(`skipping the OCF tests: ${OCF_TESTER} is missing (make setup installs resource-agents)`);
// ocf-tester gives every action 20 s unless told otherwise; booting the pair under TCG takes longer.
const START_TIMEOUT_MS = 240_000;

const stateDirs: string[] = [];
function newStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-ocf-'));
  stateDirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of stateDirs) {
    // Whatever a failed test left running is stopped by the agent itself, then checked from /proc.
    await execa(AGENT, ['stop'], { reject: false, env: agentEnv(dir, 'stop') });
    expect(qemuPidsUnder(dir)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);

function agentEnv(stateDir: string, action: string): Record<string, string> {
  return {
    OCF_ROOT: '/usr/lib/ocf',
    OCF_RESOURCE_INSTANCE: 'baton',
    OCF_RESKEY_config: CONFIG,
    OCF_RESKEY_state_dir: stateDir,
    OCF_RESKEY_CRM_meta_timeout: String(START_TIMEOUT_MS),
    OCF_RESKEY_CRM_meta_interval: action === 'monitor' ? '10000' : '0',
  };
}

const runAgent = (stateDir: string, action: string) =>
  execa(AGENT, [action], { reject: false, env: agentEnv(stateDir, action), timeout: START_TIMEOUT_MS });

describe.skipIf(!hasOcfTester)('the baton resource agent with a real pair', () => {
  it('passes ocf-tester', async () => {
    const stateDir = newStateDir();
    const startedAtMs = performance.now();
    const result = await execa(
      OCF_TESTER,
      [
        '-v',
        '-n',
        'baton',
        '-o',
        `config=${CONFIG}`,
        '-o',
        `state_dir=${stateDir}`,
        '-o',
        `CRM_meta_timeout=${START_TIMEOUT_MS}`,
        AGENT,
      ],
      { reject: false, all: true, timeout: 1_200_000 },
    );
    console.log(`ocf-tester output (${Math.round(performance.now() - startedAtMs)} ms):\n${result.all}`);
    expect(result.exitCode).toBe(0);
    expect(result.all).toContain(`${AGENT} passed all tests`);
    expect(qemuPidsUnder(stateDir)).toEqual([]);
  }, 1_200_000);

  it('monitor reports degraded while baton re-protects after a failover, then protected', async () => {
    const stateDir = newStateDir();
    expect((await runAgent(stateDir, 'start')).exitCode).toBe(0);
    expect((await runAgent(stateDir, 'monitor')).exitCode).toBe(0);
    const failover = await execa('node', [BATON, '--state-dir', stateDir, '--json', 'failover', '--wait'], {
      reject: false,
    });
    expect(failover.exitCode, failover.stdout).toBe(0);
    // The failed VM boots again as the standby (seconds under TCG): the pair runs unprotected meanwhile.
    const degraded = await runAgent(stateDir, 'monitor');
    expect(degraded.exitCode).toBe(190);
    await expect
      .poll(async () => (await runAgent(stateDir, 'monitor')).exitCode, { timeout: 120_000, interval: 1000 })
      .toBe(0);
    const stop = await runAgent(stateDir, 'stop');
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect((await runAgent(stateDir, 'monitor')).exitCode).toBe(7);
    expect(qemuPidsUnder(stateDir)).toEqual([]);
  }, 600_000);
});
