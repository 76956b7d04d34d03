// Whole-VM failover on real busybox guests: panic, SIGKILL, a standby dying meanwhile, a host pause,
// and a memory grant racing a failover (issue 11 acceptance d).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KvClient } from '../../src/endpoint/kv-client.js';
import { ConflictError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { MemoryTarget, PlugResult, ResizeOptions } from '../../src/memory/mechanism.js';
import { VirtioMemMechanism } from '../../src/memory/virtio-mem.js';
import { defaultPairConfig } from '../../src/pair/config.js';
import { Pair } from '../../src/pair/pair.js';
import { continueVm, stopVm } from '../../src/qmp/commands.js';
import type { FailoverRecord } from '../../src/state/history.js';
import { WHOLE_VM_PHASES } from '../../src/state/phases.js';
import { appAreaName, assertInvariants, findArea } from '../../src/table/index.js';
import { MiB } from '../../src/units.js';
import { expectTableMatchesQemu, qemuPidsUnder, until } from '../helpers/audit.js';
import { hostAccel } from '../helpers/vm-fixture.js';

let pair: Pair | undefined;
let stateDir: string | undefined;

afterEach(async () => {
  await pair?.stop();
  pair = undefined;
  if (stateDir !== undefined) {
    expect(qemuPidsUnder(stateDir)).toEqual([]);
    rmSync(stateDir, { recursive: true, force: true });
  }
});

/**
 * The real virtio-mem mechanism, calling `beforePlug` as each plug starts until it returns true
 * (then it is cleared): a test times a race by it.
 */
class WatchedMechanism extends VirtioMemMechanism {
  beforePlug: ((vm: string, slot: string) => boolean) | undefined;

  override plug(vm: MemoryTarget, slot: string, bytes: number, options?: ResizeOptions): Promise<PlugResult> {
    if (this.beforePlug?.(vm.name, slot) === true) this.beforePlug = undefined;
    return super.plug(vm, slot, bytes, options);
  }
}

async function startPair(
  mechanism?: (log: ReturnType<typeof createLogger>) => VirtioMemMechanism,
): Promise<Pair> {
  stateDir = mkdtempSync(join(tmpdir(), 'baton-fo-'));
  const accel = await hostAccel();
  const log = createLogger({ level: process.env.BATON_LOG_LEVEL ?? 'warn' });
  pair = await Pair.start(defaultPairConfig(stateDir), {
    log,
    accel: accel.accel,
    mechanism: mechanism?.(log) ?? new VirtioMemMechanism({ log }),
  });
  return pair;
}

async function writeKeys(port: number, count: number): Promise<void> {
  const client = await KvClient.connect(port);
  for (let i = 0; i < count; i += 1) expect(await client.request(`SET key${i} value${i}`)).toBe('OK');
  client.close();
}

async function readKeys(port: number, count: number): Promise<string[]> {
  const client = await KvClient.connect(port, 60_000);
  const values: string[] = [];
  for (let i = 0; i < count; i += 1) values.push((await client.request(`GET key${i}`, 60_000)) ?? '(closed)');
  client.close();
  return values;
}

async function waitForFailover(p: Pair, timeoutMs: number): Promise<FailoverRecord> {
  const startedAtMs = performance.now();
  while (performance.now() - startedAtMs < timeoutMs) {
    const record = p.history[0];
    if (record !== undefined) return record;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no failover recorded within ${timeoutMs} ms (state ${p.state})`);
}

async function waitForState(p: Pair, state: string, timeoutMs: number): Promise<void> {
  const startedAtMs = performance.now();
  while (p.state !== state && performance.now() - startedAtMs < timeoutMs)
    await new Promise((r) => setTimeout(r, 100));
  expect(p.state).toBe(state);
}

describe('whole-VM failover on real guests', () => {
  it('moves kvd to vm-b with all acknowledged keys when vm-a panics, then re-protects', async () => {
    const p = await startPair();
    const port = p.endpointPort('kvd');
    await expectTableMatchesQemu(p);
    await writeKeys(port, 100);
    const oldActive = p.activeVm;
    if (oldActive === undefined) throw new Error('no active VM');
    const oldPid = oldActive.machine.pid;
    let exitSeenAtMs = 0;
    void oldActive.machine.exited.then(() => {
      exitSeenAtMs = performance.now();
    });
    let appStartedAtMs = 0;
    const standbyAgent = p.standbyVm?.machine.agent;
    const originalStart = standbyAgent?.appStart.bind(standbyAgent);
    if (standbyAgent !== undefined && originalStart !== undefined) {
      standbyAgent.appStart = async (...args) => {
        appStartedAtMs = performance.now();
        return originalStart(...args);
      };
    }

    await oldActive.machine.agent.injectPanic(5000).catch(() => undefined); // The guest may die before replying.
    const record = await waitForFailover(p, 180_000);
    console.log(
      `[integration] panic failover (${p.accel}): ${record.totalMs} ms ${JSON.stringify(record.phases)}`,
    );
    expect(record).toMatchObject({ kind: 'whole-vm', result: 'succeeded', fromVm: 'vm-a', toVm: 'vm-b' });
    expect(record.trigger).toBe('GUEST_PANICKED on vm-a');
    expect(record.phases.map((ph) => ph.name)).toEqual(['detect', ...WHOLE_VM_PHASES]);

    // I1 from the host's evidence: the old QEMU exited before kvd was started on the standby.
    expect(exitSeenAtMs).toBeGreaterThan(0);
    expect(appStartedAtMs).toBeGreaterThan(exitSeenAtMs);
    expect(existsSync(`/proc/${oldPid}`)).toBe(false);

    expect(await readKeys(port, 100)).toEqual(Array.from({ length: 100 }, (_, i) => `VALUE value${i}`));
    expect(p.roles).toEqual({ active: 'vm-b', standby: 'vm-a' });
    expect(p.table.areas.find((a) => a.name === 'app:kvd')).toMatchObject({
      user: 'vm-b',
      onFailure: 'vm-a',
      sizeBytes: 128 * MiB,
    });

    await waitForState(p, 'protected', 120_000);
    expect(p.standbyVm?.machine.isRunning).toBe(true);
    expect(p.standbyVm?.hello.memTotalBytes).toBeLessThan(96 * MiB);
    await expectTableMatchesQemu(p);
  });

  it('moves kvd with its keys when the active QEMU is SIGKILLed', async () => {
    const p = await startPair();
    const port = p.endpointPort('kvd');
    await writeKeys(port, 100);
    const oldActive = p.activeVm;
    if (oldActive === undefined) throw new Error('no active VM');
    await oldActive.machine.kill();
    const record = await waitForFailover(p, 180_000);
    console.log(
      `[integration] SIGKILL failover (${p.accel}): ${record.totalMs} ms ${JSON.stringify(record.phases)}`,
    );
    expect(record.result).toBe('succeeded');
    expect(record.trigger).toMatch(/^(qemu-exit|qmp-disconnect) on vm-a$/);
    expect(await readKeys(port, 100)).toEqual(Array.from({ length: 100 }, (_, i) => `VALUE value${i}`));
    expect(p.history).toHaveLength(1);
    await waitForState(p, 'protected', 120_000);
    await expectTableMatchesQemu(p);
  });

  it('goes blocked with kvd still accounted to vm-a when the standby dies during the failover', async () => {
    const p = await startPair();
    const active = p.activeVm;
    const standby = p.standbyVm;
    if (active === undefined || standby === undefined) throw new Error('pair not up');
    active.machine.qmp.on('event', (event) => {
      if (event.event === 'GUEST_PANICKED') void standby.machine.kill();
    });
    await active.machine.agent.injectPanic(5000).catch(() => undefined);
    const record = await waitForFailover(p, 60_000);
    expect(record.result).toBe('blocked');
    expect(p.state).toBe('blocked');
    expect(p.blockedReason).toMatch(/vm-b/);
    expect(p.table.areas.find((a) => a.name === 'app:kvd')).toMatchObject({
      user: 'vm-a',
      onFailure: 'vm-b',
    });
    assertInvariants(p.table);
    expect(p.endpoints.get('kvd')?.currentTarget).toBeUndefined();
    await active.machine.exited;
    await standby.machine.exited;
    expect(p.history).toHaveLength(1);
  });

  it('does not fail over when the host pauses the active for 2 s (QMP stop, then cont)', async () => {
    const p = await startPair();
    const active = p.activeVm;
    if (active === undefined) throw new Error('no active VM');
    await stopVm(active.machine.qmp);
    await new Promise((r) => setTimeout(r, 2000));
    await continueVm(active.machine.qmp);
    const beatsBefore = active.machine.agent.lastHeartbeat?.seq ?? 0;
    await active.machine.agent.waitForHeartbeat(beatsBefore + 4, 10_000);
    expect(p.history).toEqual([]);
    expect(p.state).toBe('protected');
    expect(p.detectors.get('vm-a')?.state).toBe('watching');
  });
});

describe('a memory grant racing a whole-VM failover', () => {
  /** What one grant answered: granted, or refused with its code (anything else fails the test). */
  async function answerOf(grant: Promise<unknown>): Promise<string> {
    try {
      await grant;
      return 'granted';
    } catch (error) {
      // A refusal is a ConflictError (exit 5 from `baton request`); any other error is no defined answer.
      expect(error, `the grant's error: ${(error as Error).message}`).toBeInstanceOf(ConflictError);
      expect((error as Error).message).toMatch(/^Cannot grant memory to kvd: /);
      return `refused ${(error as ConflictError).code}: ${(error as Error).message}`;
    }
  }

  it('(d) each grant gets one answer (granted or CONFLICT) and after each failover the table matches QEMU', async () => {
    let mechanism: WatchedMechanism | undefined;
    const p = await startPair((log) => {
      mechanism = new WatchedMechanism({ log });
      return mechanism;
    });
    if (mechanism === undefined) throw new Error('no mechanism');
    const watched = mechanism;
    const port = p.endpointPort('kvd');
    const kvdSize = () => findArea(p.table, appAreaName('kvd'))?.sizeBytes ?? 0;
    const failOver = () =>
      p.onFault(
        { vm: p.roles.active, signal: 'request', detectedAtMs: performance.now() },
        { isOperatorRequest: true },
      );
    const grant = () => p.grantMemory({ app: 'kvd', extraBytes: 32 * MiB });
    // Each round times the grant against one moment of the failover, by the pair's own events.
    const rounds: Array<[string, () => Promise<string>]> = [
      [
        'grant first: the failover starts as the grant plugs the active',
        async () => {
          const active = p.roles.active;
          let failover: Promise<unknown> | undefined;
          watched.beforePlug = (vm, slot) => {
            if (vm !== active || slot !== 'slot0') return false;
            failover = failOver();
            return true;
          };
          const answer = await answerOf(grant());
          await failover;
          return answer;
        },
      ],
      [
        'same tick: the grant right after the failover started',
        async () => {
          const failover = failOver();
          const answer = await answerOf(grant());
          await failover;
          return answer;
        },
      ],
      [
        "during the failover's plug of kvd on the target",
        async () => {
          const target = p.roles.standby;
          let answer: Promise<string> | undefined;
          watched.beforePlug = (vm, slot) => {
            if (vm !== target || slot !== 'slot0') return false;
            answer = answerOf(grant());
            return true;
          };
          await failOver();
          return (await answer) ?? 'no plug on the target seen';
        },
      ],
      [
        'after the commit, while the new standby boots',
        async () => {
          const failover = failOver();
          await until(
            () => (p.state === 'unprotected' ? true : undefined),
            120_000,
            'the failover to commit',
          );
          const answer = await answerOf(grant());
          await failover;
          return answer;
        },
      ],
    ];
    const answers: string[] = [];
    for (const [name, race] of rounds) {
      const sizeBefore = kvdSize();
      const historyBefore = p.history.length;
      const answer = await race();
      // Settled: protected, nothing in flight, and the ordinary app `cache` placed again on the
      // active (its guest's memory request granted) or waiting with the reason.
      const isCachePlaced = () =>
        p.endpoints.get('cache')?.currentTarget?.vm === p.roles.active || p.waitingReasons.has('cache');
      await until(
        () => (p.state === 'protected' && p.inFlight === undefined && isCachePlaced() ? true : undefined),
        180_000,
        `the pair protected again after "${name}"`,
      );
      answers.push(`${name}: ${answer}`);
      expect(p.history.slice(historyBefore).map((r) => r.result)).toEqual(['succeeded']);
      // One answer, and the table says what it said: grown by the grant or unchanged; it matches QEMU.
      expect(kvdSize()).toBe(answer === 'granted' ? sizeBefore + 32 * MiB : sizeBefore);
      await expectTableMatchesQemu(p);
      const client = await KvClient.connect(port, 30_000);
      expect(await client.request(`SET round${answers.length} ok`, 30_000)).toBe('OK');
      client.close();
    }
    console.log(`[integration] grant racing a failover:\n  ${answers.join('\n  ')}`);
    // The two grants made while kvd was moving are refused by design; the one after the commit is granted.
    expect(answers[1]).toMatch(/: refused CONFLICT: Cannot grant memory to kvd: .* moves it now/);
    expect(answers[2]).toMatch(/: refused CONFLICT: Cannot grant memory to kvd: .* moves it now/);
    expect(answers[3]).toMatch(/: granted$/);
    expect(p.history).toHaveLength(rounds.length);
  }, 900_000);
});
