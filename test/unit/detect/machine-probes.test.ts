import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { machineProbes } from '../../../src/detect/machine-probes.js';
import type { Machine } from '../../../src/vm/machine.js';

/** The parts of a Machine the probes read: its name, pid, QMP client and agent channel. */
function fakeMachine(agent: { lastHeartbeatAtMs?: number; heartbeatMs?: number }) {
  const qmp = Object.assign(new EventEmitter(), {
    execute: vi.fn(async () => ({ running: false, status: 'paused' })),
  });
  const channel = {
    lastHeartbeatAtMs: agent.lastHeartbeatAtMs,
    hello: agent.heartbeatMs === undefined ? undefined : { heartbeatMs: agent.heartbeatMs },
    sync: vi.fn(async () => undefined),
  };
  const machine = { spec: { name: 'vm-a' }, pid: -1, qmp, agent: channel } as unknown as Machine;
  return { machine, qmp, channel };
}

const event = (name: string) => ({ event: name, data: {}, receivedAtMs: 0, qemuTimestampUs: 0 });

describe('machineProbes', () => {
  it('measures heartbeat age on the host clock from the last heartbeat received', () => {
    const { machine } = fakeMachine({ lastHeartbeatAtMs: performance.now() - 700 });
    const probes = machineProbes(machine);
    expect(probes.heartbeatAgeMs()).toBeGreaterThanOrEqual(700);
    expect(machineProbes(fakeMachine({}).machine).heartbeatAgeMs()).toBeUndefined();
  });

  it("takes the heartbeat period from the agent's hello", () => {
    expect(machineProbes(fakeMachine({ heartbeatMs: 1000 }).machine).heartbeatPeriodMs).toBe(1000);
    expect(machineProbes(fakeMachine({}).machine)).not.toHaveProperty('heartbeatPeriodMs');
  });

  it('asks query-status for the run state and the agent for sync', async () => {
    const { machine, channel } = fakeMachine({});
    const probes = machineProbes(machine);
    await expect(probes.queryRunState(2000)).resolves.toEqual({ isRunning: false, runState: 'paused' });
    await probes.sync('n-1', 1000);
    expect(channel.sync).toHaveBeenCalledWith('n-1', 1000);
  });

  it('turns QMP STOP and RESUME events into run-state changes until unsubscribed', () => {
    const { machine, qmp } = fakeMachine({});
    const changes: string[] = [];
    const unwatch = machineProbes(machine).watchRunState?.((change) => changes.push(change));
    qmp.emit('event', event('STOP'));
    qmp.emit('event', event('GUEST_PANICKED'));
    qmp.emit('event', event('RESUME'));
    unwatch?.();
    qmp.emit('event', event('STOP'));
    expect(changes).toEqual(['stopped', 'resumed']);
    expect(qmp.listenerCount('event')).toBe(0);
  });

  it('reports no CPU progress figure for a process that does not exist', async () => {
    await expect(machineProbes(fakeMachine({}).machine).processProgress()).resolves.toBeUndefined();
  });
});
