import { afterEach, describe, expect, it } from 'vitest';
import { AgentError, WaitTimeoutError } from '../../../src/errors.js';
import type { AppConfig } from '../../../src/pair/config.js';
import { placeApp } from '../../../src/pair/place-app.js';
import { MiB } from '../../../src/units.js';
import { fakeMechanism, fakeVm, startPongServer } from './fake-pair.js';

const cache: AppConfig = {
  name: 'kvd',
  slot: 'slot0',
  sizeBytes: 32 * MiB,
  slotMaxBytes: 512 * MiB,
  hotStandby: false,
  argv: ['/apps/kvd'],
  guestPort: 7000,
  endpointPort: 0,
};

const restore: Array<() => void> = [];
afterEach(() => {
  for (const undo of restore.splice(0)) undo();
});

/** A VM whose agent fails its first `failures` mem.status requests with `agentCode` (or no reply in time). */
async function vmFailingMemStatus(failures: number, agentCode: string | 'timeout') {
  const fake = fakeVm('vm-a', { hostPort: await startPongServer() });
  const agent = fake.vm.machine.agent as unknown as { memStatus: () => Promise<unknown> };
  const real = agent.memStatus;
  let left = failures;
  agent.memStatus = async () => {
    if (left > 0) {
      left -= 1;
      if (agentCode === 'timeout')
        throw new WaitTimeoutError({ waitedFor: "the agent's reply to mem.status on vm-a", timeoutMs: 2000 });
      throw new AgentError({ vm: 'vm-a', agentCode, message: 'reading /sys/devices/system/node failed' });
    }
    return real();
  };
  restore.push(() => {
    agent.memStatus = real;
  });
  return fake;
}

describe('placeApp', () => {
  it('asks the agent again when it could not read its NUMA nodes while the memory comes online', async () => {
    const fake = await vmFailingMemStatus(2, 'internal');
    const placed = await placeApp(fake.vm, cache, {
      mechanism: fakeMechanism([fake]),
      diskPortIndex: 0,
      healthTimeoutMs: 2000,
    });
    expect(placed.pluggedBytes).toBe(32 * MiB);
    expect(fake.calls).toContain('agent app.start kvd');
  });

  it('asks again when a busy guest did not answer in time', async () => {
    const fake = await vmFailingMemStatus(2, 'timeout');
    const placed = await placeApp(fake.vm, cache, {
      mechanism: fakeMechanism([fake]),
      diskPortIndex: 0,
      healthTimeoutMs: 2000,
    });
    expect(placed.pluggedBytes).toBe(32 * MiB);
    expect(fake.calls).toContain('agent app.start kvd');
  });

  it('fails at once when the agent is gone', async () => {
    const fake = await vmFailingMemStatus(1, 'disconnected');
    const error = await placeApp(fake.vm, cache, {
      mechanism: fakeMechanism([fake]),
      diskPortIndex: 0,
      healthTimeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AGENT_ERROR', agentCode: 'disconnected' });
    expect(fake.calls).not.toContain('agent app.start kvd');
  });

  it.each([
    [
      'empties a slot that still holds unrecorded memory (a grant a killed daemon never committed)',
      32 * MiB,
      ['unplug vm-a slot0'],
    ],
    ['leaves an empty slot alone', 0, []],
  ])('before an app that asks for its memory starts: %s', async (_what, leftBytes, unplugs) => {
    const fake = fakeVm('vm-a', { hostPort: await startPongServer() });
    fake.nodeBytes.set(1, leftBytes);
    const mechanism = fakeMechanism([fake]);
    await placeApp(fake.vm, cache, {
      mechanism,
      diskPortIndex: 0,
      healthTimeoutMs: 2000,
      isMemoryRequestedByGuest: true,
    });
    expect(mechanism.calls).toEqual(unplugs);
    expect(fake.nodeBytes.get(1)).toBe(0);
    expect(fake.calls).toContain('agent app.start kvd');
  });
});
