import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { AppStartRequest } from '../../../src/agent/protocol.js';
import { AgentError, WaitTimeoutError } from '../../../src/errors.js';
import {
  appStartTimeoutMs,
  isConfigStartFailure,
  isReadyReportedByAgent,
  startAppAndAwaitReady,
} from '../../../src/pair/app-ready.js';
import type { AppConfig } from '../../../src/pair/config.js';
import { appStartRequest } from '../../../src/pair/place-app.js';
import { createSupervision, noteStarted, noteStartFailure } from '../../../src/pair/supervise.js';
import type { PairVm } from '../../../src/pair/vm-factory.js';
import { MiB } from '../../../src/units.js';

const health = { intervalMs: 100, timeoutMs: 50, failuresToUnhealthy: 3 };
const web: AppConfig = {
  name: 'web',
  slot: 'slot0',
  sizeBytes: 32 * MiB,
  slotMaxBytes: 128 * MiB,
  hotStandby: true,
  argv: ['/bin/busybox', 'httpd', '-f', '-p', '8080'],
  user: 'nobody',
  env: { GREETING: 'hello world', EMPTY: '' },
  workdir: '/srv/site',
  guestPort: 8080,
  endpointPort: 0,
  diskBytes: 64 * MiB,
  dataDisk: { mountPoint: '/srv/site', owner: 'nobody:nogroup', prepare: ['/bin/sh', '-c', 'echo hi'] },
  health: { kind: 'http', path: '/', ...health },
};

/** A VM whose agent answers app.start with pid 42 and then, after `readyAfterMs`, sends app.ready (or not). */
function vmWithAgent(readyAfterMs: number | undefined) {
  const requests: AppStartRequest[] = [];
  const agent = Object.assign(new EventEmitter(), {
    appStart: async (request: AppStartRequest) => {
      requests.push(request);
      if (readyAfterMs !== undefined)
        setTimeout(
          () => agent.emit('appReady', { type: 'app.ready', name: request.name, pid: 42 }, 0),
          readyAfterMs,
        );
      return { name: request.name, pid: 42 };
    },
  });
  const vm = {
    machine: { agent, spec: { name: 'vm-a' } },
    forwards: new Map([['web', 0]]),
  } as unknown as PairVm;
  return { vm, requests, agent };
}

const direct = <T>(_name: string, work: () => Promise<T>) => work();

describe('app.start for operator apps', () => {
  it('sends argv, user, env as KEY=VALUE, workdir and the disk at its own mount point with owner and prepare', () => {
    expect(
      appStartRequest(web, 1, { serial: 'baton-web', path: '/x', sizeBytes: 64 * MiB } as never),
    ).toEqual({
      name: 'web',
      argv: ['/bin/busybox', 'httpd', '-f', '-p', '8080'],
      user: 'nobody',
      env: ['GREETING=hello world', 'EMPTY='],
      workdir: '/srv/site',
      memoryBytes: 32 * MiB,
      node: 1,
      disk: {
        serial: 'baton-web',
        mountPoint: '/srv/site',
        owner: 'nobody:nogroup',
        prepare: ['/bin/sh', '-c', 'echo hi'],
      },
      health: { port: 8080, kind: 'http', path: '/', ...health },
    });
  });

  it('mounts at /data/<name> when the config gives no mount point, and sends no port for an exec check', () => {
    const app: AppConfig = {
      ...web,
      dataDisk: {},
      health: { kind: 'exec', argv: ['/usr/bin/pg_isready'], ...health },
      unit: 'postgresql@15-main.service',
    };
    delete (app as { argv?: unknown }).argv;
    delete (app as { user?: unknown }).user;
    delete (app as { env?: unknown }).env;
    delete (app as { workdir?: unknown }).workdir;
    const request = appStartRequest(app, 2, { serial: 'baton-web' } as never);
    expect(request.unit).toBe('postgresql@15-main.service');
    expect(request).not.toHaveProperty('argv');
    expect(request.disk).toEqual({ serial: 'baton-web', mountPoint: '/data/web' });
    expect(request.health).toEqual({ kind: 'exec', argv: ['/usr/bin/pg_isready'], ...health });
  });

  it('gives a unit and a prepare command longer to start', () => {
    expect(appStartTimeoutMs({ ...web, dataDisk: {} })).toBe(15_000);
    expect(appStartTimeoutMs(web)).toBe(315_000);
    expect(appStartTimeoutMs({ ...web, dataDisk: {}, unit: 'x.service' })).toBe(195_000);
  });

  it('asks the agent for readiness unless the check is a line the host can send itself', () => {
    expect(isReadyReportedByAgent(web)).toBe(true);
    expect(isReadyReportedByAgent({ ...web, health: { ...health } })).toBe(false);
    expect(isReadyReportedByAgent({ ...web, health: { kind: 'line', ...health } })).toBe(false);
    expect(isReadyReportedByAgent({ ...web, health: { kind: 'tcp', ...health } })).toBe(true);
  });

  it("resolves on the agent's app.ready, even when it comes with the reply", async () => {
    const { vm } = vmWithAgent(0);
    await expect(
      startAppAndAwaitReady(vm, web, { name: 'web' }, { healthTimeoutMs: 1000, what: 'web', phase: direct }),
    ).resolves.toBe(42);
  });

  it('times out naming what it waited for when no app.ready comes, and stops listening', async () => {
    const { vm, agent } = vmWithAgent(undefined);
    const error = await startAppAndAwaitReady(
      vm,
      web,
      { name: 'web' },
      { healthTimeoutMs: 100, what: 'web on vm-a', phase: direct },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as Error).message).toContain('web on vm-a to report app.ready (health http)');
    expect(agent.listenerCount('appReady')).toBe(0);
  });
});

describe('start failures caused by configuration', () => {
  const refusal = (agentCode: string) =>
    new AgentError({
      vm: 'vm-a',
      agentCode,
      message: 'starting /usr/bin/nope failed: No such file or directory',
    });

  it.each([
    'spawn-failed',
    'mount-failed',
    'account-not-found',
    'prepare-failed',
    'unit-not-found',
    'unit-failed',
  ])('counts %s as configuration', (code) => {
    expect(isConfigStartFailure(refusal(code))).toBe(true);
  });

  it.each(['disk-not-found', 'memory-refused', 'disconnected', 'internal'])('does not count %s', (code) => {
    expect(isConfigStartFailure(refusal(code))).toBe(false);
    expect(isConfigStartFailure(new Error(code))).toBe(false);
  });

  it("records the guest's reason until the app starts again", () => {
    const logged: unknown[] = [];
    const pair = {
      supervision: createSupervision(),
      log: { error: (fields: unknown) => logged.push(fields) },
    } as never;
    expect(noteStartFailure(pair, 'web', 'vm-a', refusal('spawn-failed'))).toBe(true);
    expect(noteStartFailure(pair, 'web', 'vm-a', refusal('disk-not-found'))).toBe(false);
    const { supervision } = pair as { supervision: ReturnType<typeof createSupervision> };
    expect(supervision.startFailures.get('web')).toEqual({
      vm: 'vm-a',
      code: 'spawn-failed',
      message: 'starting /usr/bin/nope failed: No such file or directory',
    });
    expect(logged).toHaveLength(1);
    noteStarted(supervision, 'web');
    expect(supervision.startFailures.has('web')).toBe(false);
  });
});
