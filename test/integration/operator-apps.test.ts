import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusView } from '../../src/daemon/views.js';
import { createLogger } from '../../src/log.js';
import { VirtioMemMechanism } from '../../src/memory/virtio-mem.js';
import { startAppAndAwaitReady } from '../../src/pair/app-ready.js';
import { type AppConfig, defaultPairConfig, type PairConfig } from '../../src/pair/config.js';
import { Pair } from '../../src/pair/pair.js';
import { appStartRequest } from '../../src/pair/place-app.js';
import { MiB } from '../../src/units.js';
import { expectTableMatchesQemu, qemuPidsUnder, until } from '../helpers/audit.js';
import { hostAccel } from '../helpers/vm-fixture.js';

// Apps the way operators run them, on the busybox guest: programs outside /apps, a user, env and
// workdir, a data disk at its own mount point with an owner and a prepare command, the four health
// kinds, and start failures that come from the configuration (no failover, the pair stays up).

// Generous under TCG: busybox forks for every request and every check.
const health = { intervalMs: 2000, timeoutMs: 1500, failuresToUnhealthy: 5 };
const small = { sizeBytes: 32 * MiB, slotMaxBytes: 128 * MiB, hotStandby: true, endpointPort: 0 };
/** The facts the app writes about itself, served by busybox httpd from its data disk. */
const SITE_SCRIPT =
  'echo "$(id -u):$(id -g):$GREETING:$(pwd)" > facts && exec /bin/busybox httpd -f -p 8080 -h /srv/site';

function operatorApps(): AppConfig[] {
  return [
    {
      name: 'site',
      slot: 'slot0',
      ...small,
      argv: ['/bin/sh', '-c', SITE_SCRIPT],
      user: 'nobody',
      group: 'nogroup',
      env: { GREETING: 'hello world' },
      workdir: '/srv/site',
      guestPort: 8080,
      diskBytes: 16 * MiB,
      dataDisk: {
        mountPoint: '/srv/site',
        owner: 'nobody:nogroup',
        prepare: ['/bin/sh', '-c', 'echo "prepared as $(id -u) in $(pwd)" >> /srv/site/prepare-runs'],
      },
      health: { kind: 'http', path: '/facts', ...health },
      restart: { max: 3, windowMs: 60_000 },
    },
    {
      name: 'kv',
      slot: 'slot1',
      ...small,
      argv: ['/apps/kvd', '--port', '7001', '--data', '/tmp/kv'],
      guestPort: 7001,
      health: { kind: 'line', send: 'PING', expect: 'PONG', ...health },
    },
    {
      name: 'plain',
      slot: 'slot2',
      ...small,
      argv: ['/bin/busybox', 'httpd', '-f', '-p', '7002', '-h', '/tmp'],
      guestPort: 7002,
      health: { kind: 'tcp', ...health },
    },
    {
      name: 'checked',
      slot: 'slot3',
      ...small,
      argv: ['/bin/busybox', 'httpd', '-f', '-p', '7003', '-h', '/etc'],
      guestPort: 7003,
      health: {
        kind: 'exec',
        argv: ['/bin/busybox', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:7003/hosts'],
        ...health,
      },
    },
    {
      name: 'missing',
      slot: 'slot4',
      ...small,
      argv: ['/usr/bin/not-there', '--flag'],
      guestPort: 7004,
      health: { kind: 'tcp', ...health },
    },
    {
      name: 'badmount',
      slot: 'slot5',
      ...small,
      argv: ['/bin/busybox', 'httpd', '-f', '-p', '7005', '-h', '/tmp'],
      guestPort: 7005,
      diskBytes: 16 * MiB,
      dataDisk: { mountPoint: '/etc/passwd/data' },
      health: { kind: 'tcp', ...health },
    },
  ];
}

function operatorConfig(dir: string): PairConfig {
  const base = defaultPairConfig(dir);
  const apps = operatorApps();
  return {
    ...base,
    budgetBytes: (96 * 2 + 32) * MiB + apps.length * 32 * MiB + 64 * MiB,
    maxMemoryBytes: base.baseBytes + apps.length * 128 * MiB,
    apps,
  };
}

let pair: Pair | undefined;
let stateDir: string | undefined;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'baton-operator-'));
  const accel = await hostAccel();
  const log = createLogger({ level: process.env.BATON_LOG_LEVEL ?? 'warn' });
  pair = await Pair.start(operatorConfig(stateDir), {
    log,
    accel: accel.accel,
    mechanism: new VirtioMemMechanism({ log }),
  });
}, 300_000);

afterAll(async () => {
  await pair?.stop();
  pair = undefined;
  if (stateDir !== undefined) {
    expect(qemuPidsUnder(stateDir)).toEqual([]);
    rmSync(stateDir, { recursive: true, force: true });
  }
});

function started(): Pair {
  if (pair === undefined) throw new Error('the pair did not start');
  return pair;
}

async function get(app: string, path: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${started().endpointPort(app)}${path}`);
  expect(response.status).toBe(200);
  return response.text();
}

describe('operator apps on the busybox guest', () => {
  it('runs an argv app outside /apps as its user and group, with its env and workdir', async () => {
    expect(await get('site', '/facts')).toBe('65534:65534:hello world:/srv/site\n');
  });

  it('runs prepare once, as the owner, on the fresh data disk mounted at its own path', async () => {
    expect(await get('site', '/prepare-runs')).toBe('prepared as 65534 in /srv/site\n');
  });

  it('does not run prepare again when the app restarts on the used disk', async () => {
    const p = started();
    const active = p.activeVm;
    if (active === undefined) throw new Error('no active VM');
    await active.machine.agent.request('fault.app-crash', { name: 'site' }, 5000);
    await until(
      () => ((p.supervision.restarts.get('site') ?? 0) >= 1 ? true : undefined),
      60_000,
      'site restarted in place',
    );
    expect(await get('site', '/facts')).toBe('65534:65534:hello world:/srv/site\n');
    expect(await get('site', '/prepare-runs')).toBe('prepared as 65534 in /srv/site\n');
  });

  it("shows a start refused for its configuration in status with the guest's reason; the pair stays up, nothing moved", async () => {
    const p = started();
    const status = statusView(p, p.supervision.restarts);
    expect(status.state).toBe('protected');
    expect(status.blocked).toBe(false);
    const byName = new Map(status.apps.map((app) => [app.name, app]));
    expect(byName.get('missing')).toMatchObject({
      state: 'start-failed',
      vm: null,
      startError: {
        vm: 'vm-a',
        code: 'spawn-failed',
        message: 'starting /usr/bin/not-there failed: No such file or directory',
      },
    });
    expect(byName.get('badmount')).toMatchObject({
      state: 'start-failed',
      startError: {
        vm: 'vm-a',
        code: 'mount-failed',
        message: 'creating mount point /etc/passwd/data failed: Not a directory',
      },
    });
    for (const name of ['site', 'kv', 'plain', 'checked'])
      expect(byName.get(name)).toMatchObject({ state: 'running', vm: 'vm-a', startError: null });
    expect(p.roles.active).toBe('vm-a');
    expect(p.history).toEqual([]);
    await expectTableMatchesQemu(p);
  });

  it('measures start-to-ready per health kind', async () => {
    const p = started();
    const active = p.activeVm;
    if (active === undefined) throw new Error('no active VM');
    const figures: Record<string, number> = {};
    for (const app of p.config.apps.filter((a) => ['kv', 'plain', 'checked', 'site'].includes(a.name))) {
      await active.machine.agent.appStop(app.name, 5000);
      const node = active.machine.spec.slots.findIndex((slot) => slot.id === app.slot) + 1;
      const startedAtMs = performance.now();
      await startAppAndAwaitReady(active, app, appStartRequest(app, node, p.disks.get(app.name)), {
        healthTimeoutMs: 20_000,
        what: `${app.name} on ${active.machine.spec.name}`,
        phase: (_name, work) => work(),
      });
      figures[`${app.health?.kind ?? 'line'} (${app.name})`] = Math.round(performance.now() - startedAtMs);
    }
    console.log(
      `start-to-ready ms per health kind (interval ${health.intervalMs} ms): ${JSON.stringify(figures)}`,
    );
    expect(Object.keys(figures)).toHaveLength(4);
  });
});
