// The Pacemaker resource agent without QEMU: meta-data, validation exit codes, probes, and monitor's
// mapping of the pair's state, against a scripted stand-in for the baton CLI.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../src/paths.js';

const AGENT = join(PACKAGE_ROOT, 'contrib', 'ocf', 'baton');
const FAKE_BATON = join(PACKAGE_ROOT, 'test', 'fixtures', 'fake-baton');
const CONFIG = join(PACKAGE_ROOT, 'contrib', 'baton.yaml');
const OCF_ROOT = '/usr/lib/ocf';
const DTD = '/usr/share/resource-agents/ra-api-1.dtd';
const hasShellFuncs = existsSync(join(OCF_ROOT, 'lib', 'heartbeat', 'ocf-shellfuncs'));
if (!hasShellFuncs)
  console.warn(
    `skipping the resource agent's tests: ${OCF_ROOT}/lib/heartbeat/ocf-shellfuncs is missing (make setup installs resource-agents)`,
  );

const stateDir = mkdtempSync(join(tmpdir(), 'baton-ocf-unit-'));
const statusFile = join(stateDir, 'status.json');
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

/** Runs the agent with only the environment an OCF caller gives it (plus PATH). */
function agent(action: string, env: Record<string, string>) {
  return execa(AGENT, [action], {
    reject: false,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', OCF_ROOT, OCF_RESOURCE_INSTANCE: 'baton', ...env },
    extendEnv: false,
    timeout: 30_000,
  });
}

const withFake = (env: Record<string, string> = {}) => ({
  OCF_RESKEY_config: CONFIG,
  OCF_RESKEY_state_dir: stateDir,
  OCF_RESKEY_baton: FAKE_BATON,
  FAKE_BATON_STATUS: statusFile,
  // A recurring monitor (ocf-shellfuncs takes an unset interval as 0: a probe).
  OCF_RESKEY_CRM_meta_interval: '10000',
  ...env,
});

/** The status JSON as `baton --json status` prints it (two-space indent). */
function writeStatus(state: string, blockedReason: string | null = null) {
  const status = {
    epoch: 3,
    state,
    blocked: state === 'blocked',
    blockedReason,
    vms: [{ name: 'vm-a', role: 'active', state: 'running' }],
    apps: [],
  };
  writeFileSync(statusFile, `${JSON.stringify(status, null, 2)}\n`);
}

// Each case spawns the agent (and some, node): seconds each on a loaded machine.
describe.skipIf(!hasShellFuncs)('the baton resource agent', { timeout: 60_000 }, () => {
  it('prints meta-data that is valid against the OCF DTD and names its parameters', async () => {
    const result = await agent('meta-data', {});
    expect(result.exitCode).toBe(0);
    const lint = await execa('xmllint', ['--noout', '--dtdvalid', DTD, '-'], {
      input: result.stdout,
      reject: false,
    });
    expect(lint.exitCode, lint.stderr).toBe(0);
    const names = [...result.stdout.matchAll(/<parameter name="([a-z_]+)"/g)].map((m) => m[1]);
    expect(names).toEqual(['config', 'state_dir', 'baton']);
    expect(result.stdout).toContain('<resource-agent name="pair"');
    for (const action of ['start', 'stop', 'monitor', 'meta-data', 'validate-all'])
      expect(result.stdout).toContain(`<action name="${action}"`);
  });

  it.each([
    ['no config parameter', { OCF_RESKEY_config: '' }, 6, 'the config parameter is not set'],
    [
      'a config file missing on this node',
      { OCF_RESKEY_config: '/nonexistent/baton.yaml' },
      5,
      'cannot read the config file /nonexistent/baton.yaml',
    ],
    ['no baton installed', { OCF_RESKEY_baton: '/nonexistent/baton' }, 5, 'baton is not installed'],
    [
      'a state directory missing on this node',
      { OCF_RESKEY_state_dir: '/nonexistent/state' },
      2,
      'the state directory /nonexistent/state is not a directory',
    ],
    [
      'a state directory that is a file',
      { OCF_RESKEY_state_dir: FAKE_BATON },
      2,
      'is not a directory on this node',
    ],
  ])('validate-all refuses %s with exit %i and one line', async (_what, env, exitCode, reason) => {
    const result = await agent('validate-all', withFake(env));
    expect(result.exitCode).toBe(exitCode);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ocf-exit-reason:/);
    expect(lines[0]).toContain(reason);
  });

  it('refuses an invalid config with OCF_ERR_CONFIGURED, using the real baton check-config', async () => {
    const bad = join(stateDir, 'bad.yaml');
    writeFileSync(bad, 'budget: nope\n');
    const result = await agent('validate-all', { OCF_RESKEY_config: bad, OCF_RESKEY_state_dir: stateDir });
    expect(result.exitCode).toBe(6);
    expect(result.stderr.trim()).toBe(
      `ocf-exit-reason:invalid config ${bad}: ${bad}: budget: expected a size like 736MiB, got 'nope'`,
    );
  });

  it('answers a probe with 7 when baton is not installed, or its storage not here', async () => {
    const probe = { __OCF_ACTION: 'monitor', OCF_RESKEY_CRM_meta_interval: '0' };
    const missing = await agent('monitor', withFake({ ...probe, OCF_RESKEY_baton: '/nonexistent/baton' }));
    expect(missing.exitCode).toBe(7);
    // ocf-tester's way of hiding every binary from have_binary.
    const hidden = await agent('monitor', {
      ...probe,
      OCF_RESKEY_config: CONFIG,
      OCF_TESTER_FAIL_HAVE_BINARY: '1',
    });
    expect(hidden.exitCode).toBe(7);
    const noStorage = await agent(
      'monitor',
      withFake({ ...probe, OCF_RESKEY_state_dir: '/nonexistent/state', FAKE_BATON_EXIT: '4' }),
    );
    expect(noStorage.exitCode).toBe(7);
    // Not a probe: the same missing baton is an installation problem.
    const recurring = await agent('monitor', withFake({ OCF_RESKEY_baton: '/nonexistent/baton' }));
    expect(recurring.exitCode).toBe(5);
  });

  it.each([
    ['protected', 0],
    ['unprotected', 190],
    ['failing-over', 190],
    ['blocked', 1],
    ['stopped', 7],
  ])('monitor maps a %s pair to %i', async (state, exitCode) => {
    writeStatus(state, state === 'blocked' ? 'fence failed: vm-a' : null);
    const result = await agent('monitor', withFake());
    expect(result.exitCode).toBe(exitCode);
    if (state === 'blocked') expect(result.stderr).toContain('the pair is blocked: fence failed: vm-a');
  });

  it('monitor says 7 when no daemon answers and nothing runs, 1 when baton status fails otherwise', async () => {
    expect((await agent('monitor', withFake({ FAKE_BATON_EXIT: '4' }))).exitCode).toBe(7);
    expect((await agent('monitor', withFake({ FAKE_BATON_EXIT: '1' }))).exitCode).toBe(1);
  });

  it('monitor says 1 when a live process holds the lock but no daemon answers', async () => {
    // This test's own process holds the lock: alive, with its real start time.
    const ticks = readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19];
    writeFileSync(join(stateDir, 'baton.lock'), `${process.pid} ${ticks}\n`);
    try {
      const result = await agent('monitor', withFake({ FAKE_BATON_EXIT: '4' }));
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(
        `the baton daemon (pid ${process.pid}) holds ${stateDir} but does not answer`,
      );
      writeFileSync(join(stateDir, 'baton.lock'), `${process.pid} 1\n`); // A reused pid: not the holder.
      expect((await agent('monitor', withFake({ FAKE_BATON_EXIT: '4' }))).exitCode).toBe(7);
    } finally {
      rmSync(join(stateDir, 'baton.lock'), { force: true });
    }
  });

  it('stops a stopped pair with success, also without baton installed', async () => {
    const result = await agent(
      'stop',
      withFake({ FAKE_BATON_EXIT: '4', OCF_RESKEY_baton: '/nonexistent/baton' }),
    );
    expect(result.exitCode).toBe(0);
  });

  it('answers an action it does not implement with 3', async () => {
    expect((await agent('promote', withFake())).exitCode).toBe(3);
  });
});
