import { describe, expect, it } from 'vitest';
import { createController } from '../../../src/daemon/controller.js';
import { EventBus } from '../../../src/daemon/events.js';
import { createMetrics } from '../../../src/daemon/metrics.js';
import { MiB } from '../../../src/units.js';
import { finishedRecord, liveMachine, viewPair } from './view-pair.js';

function controllerOf(overrides: Record<string, unknown> = {}) {
  const calls: string[] = [];
  const { pair, asPair } = viewPair(overrides);
  const bus = new EventBus();
  const controller = createController(
    asPair,
    createMetrics(() => undefined),
    async () => void calls.push('down'),
    bus,
  );
  return { controller, pair, calls, bus };
}

describe('the daemon controller: failover and switchover requests', () => {
  it('joins the failover under way instead of starting another', async () => {
    const { controller } = controllerOf({ inFlightId: 'f7', onFault: () => expect.fail('no new failover') });
    await expect(controller.failover({})).resolves.toEqual({ id: 'f7', joined: true });
  });

  it('starts a whole-VM failover of the active VM as an operator request and returns its id', async () => {
    const triggers: unknown[] = [];
    const { controller, pair } = controllerOf();
    Object.assign(pair, {
      onFault: async (trigger: unknown, options: unknown) => {
        triggers.push(trigger, options);
        pair.inFlightId = 'f8';
      },
    });
    await expect(controller.failover({})).resolves.toEqual({ id: 'f8', joined: false });
    expect(triggers).toEqual([
      { vm: 'vm-a', signal: 'request', detectedAtMs: expect.any(Number) },
      { isOperatorRequest: true },
    ]);
  });

  it('refuses a failover the pair did not start, naming the state it is in', async () => {
    const { controller } = controllerOf({ state: 'unprotected', onFault: async () => undefined });
    await expect(controller.failover({})).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'Cannot fail over: the pair is unprotected',
    });
  });

  it('refuses a move of an unknown app, listing the configured ones', async () => {
    const { controller } = controllerOf({ moveApp: () => expect.fail('no move') });
    await expect(controller.failover({ app: 'nope' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: "Unknown app 'nope': configured apps are A, B",
    });
  });

  it('returns the id a started move set, and rethrows why a refused one never started', async () => {
    const { controller, pair } = controllerOf();
    let finish: () => void = () => undefined;
    Object.assign(pair, {
      moveApp: (app: string, trigger: { reason: string }) => {
        expect([app, trigger.reason]).toEqual(['A', 'operator request']);
        pair.inFlightId = 'm1';
        return new Promise<void>((resolve) => {
          finish = resolve;
        });
      },
    });
    await expect(controller.failover({ app: 'A' })).resolves.toEqual({ id: 'm1', joined: false });
    finish();

    const refused = controllerOf({ moveApp: () => Promise.reject(new Error('A is not hot-standby')) });
    await expect(refused.controller.failover({ app: 'A' })).rejects.toThrow('A is not hot-standby');
    const ended = controllerOf({ moveApp: async () => undefined });
    await expect(ended.controller.failover({ app: 'B' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'The move of B ended before it started',
    });
  });

  it('a move that fails after it started does not surface as an unhandled rejection', async () => {
    const { controller, pair } = controllerOf();
    Object.assign(pair, {
      moveApp: () => {
        pair.inFlightId = 'm2';
        return Promise.reject(new Error('plug failed'));
      },
    });
    await expect(controller.failover({ app: 'A' })).resolves.toEqual({ id: 'm2', joined: false });
  });

  it('a switchover returns its id, or why it was refused', async () => {
    const { controller, pair } = controllerOf();
    Object.assign(pair, {
      switchOver: () => {
        pair.inFlightId = 's1';
        return Promise.reject(new Error('late failure, kept in history'));
      },
    });
    await expect(controller.switchover()).resolves.toEqual({ id: 's1' });
    const refused = controllerOf({ switchOver: () => Promise.reject(new Error('the pair is blocked')) });
    await expect(refused.controller.switchover()).rejects.toThrow('the pair is blocked');
    const ended = controllerOf({ switchOver: async () => undefined });
    await expect(ended.controller.switchover()).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'The switchover ended before it started',
    });
  });
});

describe('the daemon controller: inject, memory, maintenance and waits', () => {
  it('refuses fault injection when the config disables it', async () => {
    const { controller, pair } = controllerOf();
    pair.config.isFaultInjectionAllowed = false;
    await expect(controller.inject({ fault: 'panic' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'Fault injection is disabled in the config (faultInjection: false)',
    });
  });

  it('refuses injection with no active VM, and an app fault without an app', async () => {
    const { controller, pair } = controllerOf();
    pair.vms.clear();
    await expect(controller.inject({ fault: 'panic' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'No active VM to inject into',
    });
    const other = controllerOf();
    await expect(other.controller.inject({ fault: 'app-crash' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'Fault app-crash needs --app',
    });
  });

  it('sends a panic and a hang to the active agent and ignores the lost reply of a dying guest', async () => {
    const sent: string[] = [];
    const agent = {
      injectPanic: async (timeoutMs: number) => {
        sent.push(`panic ${timeoutMs}`);
        throw new Error('connection closed');
      },
      request: async (method: string) => {
        sent.push(method);
        throw new Error('timed out');
      },
    };
    const { controller, pair } = controllerOf();
    pair.vms.set('vm-a', { machine: liveMachine(agent) });
    await controller.inject({ fault: 'panic' });
    await controller.inject({ fault: 'hang' });
    expect(sent).toEqual(['panic 3000', 'fault.hang']);
  });

  it('sends an app fault to the VM whose table area the app uses, and passes its agent error on', async () => {
    const sent: string[] = [];
    const agentOf = (vm: string) => ({
      request: async (method: string, params: { name: string }) => {
        sent.push(`${vm} ${method} ${params.name}`);
        if (vm === 'vm-b') throw new Error('no such app');
      },
    });
    const { controller, pair } = controllerOf();
    pair.vms.set('vm-a', { machine: liveMachine(agentOf('vm-a')) });
    pair.vms.set('vm-b', { machine: liveMachine(agentOf('vm-b')) });
    await controller.inject({ fault: 'app-crash', app: 'A' });
    pair.table = {
      ...pair.table,
      areas: pair.table.areas.map((a) => (a.name === 'app:A' ? { ...a, user: 'vm-b' } : a)),
    };
    await expect(controller.inject({ fault: 'app-crash', app: 'A' })).rejects.toThrow('no such app');
    expect(sent).toEqual(['vm-a fault.app-crash A', 'vm-b fault.app-crash A']);
  });

  it('asks the pair for the difference between the size requested and the size the app has', async () => {
    const grants: unknown[] = [];
    const { controller } = controllerOf({
      grantMemory: async (request: unknown) => {
        grants.push(request);
        return { grantedBytes: 64 * MiB, epoch: 9, extra: 'not passed on' };
      },
    });
    await expect(controller.requestMemory({ app: 'A', bytes: 192 * MiB })).resolves.toEqual({
      grantedBytes: 64 * MiB,
      epoch: 9,
    });
    expect(grants).toEqual([{ app: 'A', extraBytes: 64 * MiB }]);
    await expect(controller.requestMemory({ app: 'ghost', bytes: MiB })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('switches maintenance and answers with the maintenance view', async () => {
    const { controller, pair } = controllerOf();
    Object.assign(pair, {
      setMaintenance: async (on: boolean) => {
        pair.maintenance = { isOn: on, since: '2026-12-06T05:00:00.000Z', held: [] };
      },
    });
    await expect(controller.maintenance({ on: true })).resolves.toEqual({
      on: true,
      since: '2026-12-06T05:00:00.000Z',
      heldFaults: [],
    });
  });

  it('answers a wait with the finished record from history, and NOT_FOUND for an unknown id', async () => {
    const { controller, pair } = controllerOf();
    pair.history.push(finishedRecord({ id: 'f1' }), finishedRecord({ id: 'f2', result: 'running' }));
    await expect(controller.failoverResult('f1', 10)).resolves.toMatchObject({
      id: 'f1',
      result: 'succeeded',
    });
    await expect(controller.failoverResult('f2', 10)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('passes down, history and events through', async () => {
    const { controller, pair, calls, bus } = controllerOf();
    pair.history.push(finishedRecord());
    expect(controller.history()).toHaveLength(1);
    expect(controller.table().areas.length).toBe(pair.table.areas.length);
    await controller.down();
    expect(calls).toEqual(['down']);
    const seen: string[] = [];
    const stop = controller.subscribeEvents((event) => seen.push(event.type));
    bus.publish({ type: 'following', seq: 0, at: 'now' });
    stop();
    bus.publish({ type: 'following', seq: 0, at: 'later' });
    expect(seen).toEqual(['following']);
    expect(controller.recentEvents()).toHaveLength(2);
    expect((await controller.metrics()).contentType).toContain('text/plain');
  });
});
