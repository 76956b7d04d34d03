import { describe, expect, it } from 'vitest';
import type { AppMoveTrigger, FailoverTrigger } from '../../../src/failover/context.js';
import { createSilentLogger } from '../../../src/log.js';
import { isStillFaulty, releaseHeldFaults } from '../../../src/pair/held-faults.js';
import type { HeldFault } from '../../../src/pair/maintenance.js';
import type { PairVm } from '../../../src/pair/vm-factory.js';

/** Just what the re-check reads of a VM: its QEMU, its agent's last heartbeat and app.list. */
function vmStandIn(fields: { isRunning: boolean; lastHeartbeatAtMs?: number; apps?: string[] }): PairVm {
  const agent = {
    lastHeartbeatAtMs: fields.lastHeartbeatAtMs,
    request: async () => ({
      apps: (fields.apps ?? []).map((name, i) => ({ name, running: true, pid: 100 + i })),
    }),
  };
  return { machine: { isRunning: fields.isRunning, agent } } as unknown as PairVm;
}

const vmFault: HeldFault = {
  vm: 'vm-a',
  signal: 'hang',
  reason: 'hang on vm-a',
  detectedAtMs: 1_000,
  heldAt: '2026-01-01T00:00:00.000Z',
};
const appFault: HeldFault = {
  vm: 'vm-a',
  signal: 'app-exit',
  app: 'kvd',
  action: 'move-app',
  reason: 'crash loop',
  detectedAtMs: 1_000,
  heldAt: '2026-01-01T00:00:00.000Z',
};

describe('isStillFaulty: a held fault re-checked against the VM now', () => {
  it('stands while no heartbeat came since the fault, or the QEMU is gone', async () => {
    const silent = new Map([['vm-a', vmStandIn({ isRunning: true, lastHeartbeatAtMs: 900 })]]);
    expect(await isStillFaulty({ vms: silent }, vmFault)).toBe(true);
    const exited = new Map([['vm-a', vmStandIn({ isRunning: false, lastHeartbeatAtMs: 5_000 })]]);
    expect(await isStillFaulty({ vms: exited }, vmFault)).toBe(true);
    expect(await isStillFaulty({ vms: new Map() }, vmFault)).toBe(true);
  });

  it('is over when the guest beats again (rebooted by the operator)', async () => {
    const beating = new Map([['vm-a', vmStandIn({ isRunning: true, lastHeartbeatAtMs: 5_000 })]]);
    expect(await isStillFaulty({ vms: beating }, vmFault)).toBe(false);
  });

  it('an app fault stands while the app does not run on its VM', async () => {
    const without = new Map([['vm-a', vmStandIn({ isRunning: true, apps: [] })]]);
    expect(await isStillFaulty({ vms: without }, appFault)).toBe(true);
    const running = new Map([['vm-a', vmStandIn({ isRunning: true, apps: ['kvd'] })]]);
    expect(await isStillFaulty({ vms: running }, appFault)).toBe(false);
  });
});

describe('releaseHeldFaults', () => {
  it('hands over only the faults that still stand, each as what it was: a VM fault or an app move', async () => {
    const faults: FailoverTrigger[] = [];
    const moves: Array<{ app: string; trigger: AppMoveTrigger }> = [];
    const host = {
      log: createSilentLogger(),
      vms: new Map([
        ['vm-a', vmStandIn({ isRunning: true, lastHeartbeatAtMs: 900, apps: [] })],
        ['vm-b', vmStandIn({ isRunning: true, lastHeartbeatAtMs: 5_000 })],
      ]),
      onFault: async (trigger: FailoverTrigger) => {
        faults.push(trigger);
        return undefined;
      },
      moveApp: async (app: string, trigger: AppMoveTrigger) => {
        moves.push({ app, trigger });
        return undefined as never;
      },
    };
    await releaseHeldFaults(host, [vmFault, { ...vmFault, vm: 'vm-b', reason: 'hang on vm-b' }, appFault]);
    expect(faults.map((f) => [f.vm, f.signal])).toEqual([['vm-a', 'hang']]);
    expect(moves.map((m) => [m.app, m.trigger.reason])).toEqual([
      ['kvd', 'crash loop (held during maintenance)'],
    ]);
  });
});
