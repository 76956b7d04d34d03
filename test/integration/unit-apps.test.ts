// Systemd unit apps in the Debian guest: redis-server.service with the properties systemd applied, a missing unit, a crash restarted in place, an OOM kill moved.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AppExited } from '../../src/agent/protocol.js';
import { loadConfig, toPairConfig } from '../../src/config/load.js';
import { statusView } from '../../src/daemon/views.js';
import { createLogger } from '../../src/log.js';
import { VirtioMemMechanism } from '../../src/memory/virtio-mem.js';
import { pingOnce } from '../../src/pair/health.js';
import { Pair } from '../../src/pair/pair.js';
import { MiB } from '../../src/units.js';
import { qemuPidsUnder } from '../helpers/audit.js';
import { serialTails } from '../helpers/real-guests.js';
import { hostAccel } from '../helpers/vm-fixture.js';

// Unit apps need systemd in the guest: the Debian image (images/out/debian, built by `make images`)
// booted through the `vms.image` config key. Without the image (no `make images` yet) the test says
// so and skips.

const DEBIAN_DISK = resolve('images/out/debian/base.qcow2');

function configText(stateDir: string): string {
  return `budget: 1600MiB
stateDir: ${stateDir}
faultInjection: true
vms:
  baseMemory: 512MiB
  tcgCache: 64MiB
  image:
    disk: ${DEBIAN_DISK}
detection:
  heartbeatSilenceMs: 10000
  helloTimeoutMs: 300000
  healthTimeoutMs: 180000
apps:
  - name: redis
    unit: redis-server.service
    memory: 128MiB
    port: 6379
    health: { kind: line, send: PING, expect: "+PONG", intervalMs: 2000, timeoutMs: 2000, failuresToUnhealthy: 15 }
    restart: { max: 3, windowMs: 120000 }
    dataDisk: { size: 64MiB, mountPoint: /var/lib/redis, owner: "redis:redis" }
  - name: ghost
    unit: no-such-thing.service
    memory: 128MiB
    port: 6380
    hotStandby: false
`;
}

/** app.list as the agent answers it; a unit app also shows what systemd and the kernel applied. */
const appListSchema = z.object({
  apps: z.array(
    z.object({
      name: z.string(),
      pid: z.number(),
      running: z.boolean(),
      unit: z
        .object({
          name: z.string(),
          memoryMaxBytes: z.number().nullable(),
          numaPolicy: z.string(),
          numaMask: z.string(),
        })
        .optional(),
    }),
  ),
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadlineMs = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadlineMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

let pair: Pair | undefined;
let stateDir: string | undefined;
let consoles: ReturnType<typeof setInterval> | undefined;
let lastConsoles = '';

/** Keeps the guests' console tails (the agent's log and systemd's are there): a failed start removes the run directory. */
function keepConsoles(dir: string): void {
  consoles = setInterval(() => {
    const tails = serialTails(dir, 150);
    if (tails.includes('serial.log')) lastConsoles = tails;
  }, 2000);
}

afterEach(async (context) => {
  clearInterval(consoles);
  if (stateDir !== undefined && pair !== undefined) lastConsoles = serialTails(stateDir, 150);
  if (context.task.result?.state === 'fail') console.log(lastConsoles);
  else {
    const steps = lastConsoles.split('\n').filter((line) => /took \d+ ms|started app|unit .* is /.test(line));
    console.log(`[integration] unit apps, the agent's systemctl steps:\n${steps.join('\n')}`);
  }
  await pair?.stop();
  pair = undefined;
  if (stateDir !== undefined) {
    expect(qemuPidsUnder(stateDir)).toEqual([]);
    rmSync(stateDir, { recursive: true, force: true });
  }
});

describe('unit apps in the Debian guest', () => {
  it("runs redis-server.service through systemd, shows a missing unit with the guest's reason, restarts a crashed unit in place, moves an OOM-killed one", async (context) => {
    if (!existsSync(DEBIAN_DISK)) {
      console.log(`[integration] unit apps skipped: ${DEBIAN_DISK} is missing (make images builds it)`);
      context.skip();
      return;
    }
    stateDir = mkdtempSync(join(tmpdir(), 'baton-units-'));
    const configPath = join(stateDir, 'baton.yaml');
    writeFileSync(configPath, configText(stateDir));
    const config = toPairConfig(await loadConfig(configPath));
    const accel = await hostAccel();
    const log = createLogger({ level: process.env.BATON_LOG_LEVEL ?? 'warn' });
    keepConsoles(stateDir);
    pair = await Pair.start(config, { log, accel: accel.accel, mechanism: new VirtioMemMechanism({ log }) });
    const p = pair;
    // The Debian guest booted through baton's VM factory (vms.image from boot.json, a root overlay
    // per VM) to a hello that has virtio-mem and names its kernel.
    for (const vm of p.vms.values()) {
      console.log(
        `[integration] Debian guest ${vm.machine.spec.name}: boot to hello ${Math.round(vm.bootMs)} ms; MemTotal ${Math.round(vm.hello.memTotalBytes / MiB)} MiB; kernel ${vm.hello.kernelRelease ?? '(not said)'}`,
      );
      expect(vm.hello.virtioMem).toBe(true);
      expect(vm.hello.kernelRelease).toMatch(/^6\./);
      expect(vm.machine.spec.imageCmdline).toContain('root=');
      expect(existsSync(join(stateDir ?? '', 'disks', `${vm.machine.spec.name}-root.qcow2`))).toBe(true);
    }
    const byName = () => new Map(statusView(p, p.supervision.restarts).apps.map((app) => [app.name, app]));
    const unitOf = async () => {
      const reply = appListSchema.parse(await p.activeVm?.machine.agent.request('app.list', {}, 10_000));
      return reply.apps.find((app) => app.name === 'redis');
    };
    expect(byName().get('redis')).toMatchObject({ state: 'running', startError: null });
    expect(byName().get('ghost')).toMatchObject({
      state: 'start-failed',
      startError: {
        code: 'unit-not-found',
        message: 'unit no-such-thing.service: not loaded in the guest (LoadState=not-found)',
      },
    });
    // What systemd applied: the agent checked `systemctl show` against its drop-in and read the
    // unit's cgroup's memory.max from the kernel.
    const first = await unitOf();
    expect(first).toMatchObject({
      running: true,
      unit: { name: 'redis-server.service', memoryMaxBytes: 128 * MiB, numaPolicy: 'bind' },
    });
    expect(first?.unit?.numaMask).toMatch(/^[1-9][0-9]*$/); // An app slot's node, never the base's node 0.
    // Redis (as the redis user, ProtectSystem=strict) writes its directory, the data disk the
    // agent mounted there and gave to redis:redis; each later start reads the key back from it.
    const endpointPort = byName().get('redis')?.endpointPort ?? 0;
    const redis = (send: string, expect: string) =>
      pingOnce(endpointPort, 10_000, '127.0.0.1', { send, expect });
    expect(await redis('SET unitkey baton-unit-disk', '+OK')).toBe(true);
    expect(await redis('SAVE', '+OK')).toBe(true);

    await p.activeVm?.machine.agent.request('fault.app-crash', { name: 'redis' }, 5000);
    // Restarted in place: running again under a new MainPID, with the unit's properties again.
    const restarted = await waitFor(
      async () => {
        if ((p.supervision.restarts.get('redis') ?? 0) < 1 || byName().get('redis')?.state !== 'running')
          return;
        const now = await unitOf();
        return now?.running === true && now.pid !== first?.pid ? now : undefined;
      },
      240_000,
      'redis restarted in place through systemd',
    );
    expect(restarted.unit?.memoryMaxBytes).toBe(128 * MiB);
    expect(await redis('GET unitkey', '$15')).toBe(true);
    expect(p.history).toEqual([]);
    expect(p.roles.active).toBe('vm-a');

    // An OOM kill inside the unit's MemoryMax (SETRANGE makes Redis zero-fill a 200 MB string):
    // systemd's Result=oom-kill is the agent's `oom`, severe at once: the app moves to vm-b.
    const exits: AppExited[] = [];
    p.activeVm?.machine.agent.on('appExited', (exited) => exits.push(exited));
    await pingOnce(endpointPort, 30_000, '127.0.0.1', { send: 'SETRANGE big 200000000 x', expect: ':' }); // Killed before it answers.
    const oom = await waitFor(
      async () => exits.find((exited) => exited.name === 'redis'),
      60_000,
      'redis exits',
    );
    console.log(`[integration] unit apps: Redis over its MemoryMax: ${JSON.stringify(oom)}`);
    expect(oom.severity).toBe('oom');
    await waitFor(
      async () =>
        byName().get('redis')?.state === 'running' && byName().get('redis')?.vm === 'vm-b' ? true : undefined,
      300_000,
      'redis moved to vm-b',
    );
    expect(await redis('GET unitkey', '$15')).toBe(true); // The data disk moved with it.
  }, 900_000);
});
