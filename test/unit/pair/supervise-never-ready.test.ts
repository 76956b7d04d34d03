// Supervision on the host: a restart in place that never becomes ready is stopped and judged like a hang.
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { AppStartRequest } from '../../../src/agent/protocol.js';
import type { AppConfig } from '../../../src/pair/config.js';
import { createSupervision, type SupervisedPair, superviseVm } from '../../../src/pair/supervise.js';
import type { PairVm } from '../../../src/pair/vm-factory.js';
import { MiB } from '../../../src/units.js';

const web: AppConfig = {
  name: 'web',
  slot: 'slot0',
  sizeBytes: 32 * MiB,
  slotMaxBytes: 128 * MiB,
  hotStandby: true,
  argv: ['/usr/bin/web'],
  guestPort: 8080,
  endpointPort: 0,
  health: { kind: 'exec', argv: ['/usr/bin/check'], intervalMs: 100, timeoutMs: 50, failuresToUnhealthy: 3 },
  restart: { max: 1, windowMs: 60_000 },
} as AppConfig;

/** vm-a serving web; its agent starts web (pid 43) and sends app.ready after readyAfterMs, or never. */
function supervisedPair(readyAfterMs: number | undefined) {
  const starts: AppStartRequest[] = [];
  const stops: string[] = [];
  const agent = Object.assign(new EventEmitter(), {
    appStart: async (request: AppStartRequest) => {
      starts.push(request);
      if (readyAfterMs !== undefined)
        setTimeout(
          () => agent.emit('appReady', { type: 'app.ready', name: request.name, pid: 43 }, 0),
          readyAfterMs,
        );
      return { name: request.name, pid: 43 };
    },
    appStop: async (name: string) => {
      stops.push(name);
      return { name, code: null, signal: 15 };
    },
  });
  const vm = {
    machine: { agent, spec: { name: 'vm-a', slots: [{ id: 'slot0' }] } },
    forwards: new Map([['web', 0]]),
  } as unknown as PairVm;
  const moveApp = vi.fn(async () => ({}) as never);
  const pair = {
    config: { apps: [web], healthTimeoutMs: 50 },
    log: { warn: vi.fn(), error: vi.fn(), info: vi.fn() },
    state: 'protected',
    supervision: createSupervision(),
    endpoints: new Map([['web', { currentTarget: { vm: 'vm-a' } }]]),
    disks: new Map(),
    persistence: undefined,
    moveApp,
    onFault: vi.fn(async () => undefined),
    appExitReaction: () => 'app-policy',
  } as unknown as SupervisedPair;
  superviseVm(pair, vm);
  const crash = () =>
    agent.emit(
      'appExited',
      { type: 'app.exited', name: 'web', pid: 42, code: null, signal: 11, severity: 'crashed' },
      0,
    );
  return { pair, starts, stops, moveApp, crash };
}

describe('restart in place', () => {
  it('restarts a crashed app on its VM and counts the restart once it is ready', async () => {
    const { pair, starts, stops, crash } = supervisedPair(5);
    crash();
    await vi.waitFor(() => expect(pair.supervision.restarts.get('web')).toBe(1));
    expect(starts.map((s) => s.name)).toEqual(['web']);
    expect(stops).toEqual([]);
  });

  it('stops a restart that never becomes ready and judges it a hang: the budget used up, the app moves', async () => {
    const { pair, starts, stops, moveApp, crash } = supervisedPair(undefined);
    crash();
    await vi.waitFor(() => expect(moveApp).toHaveBeenCalledTimes(1));
    expect(starts).toHaveLength(1);
    expect(stops).toEqual(['web']);
    expect(pair.supervision.restarts.get('web')).toBeUndefined();
    expect(pair.log.warn).toHaveBeenCalledWith(
      expect.objectContaining({ app: 'web', exited: expect.objectContaining({ severity: 'hang' }) }),
      'app exited',
    );
  });
});
