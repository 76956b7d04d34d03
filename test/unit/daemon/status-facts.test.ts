import { describe, expect, it } from 'vitest';
import { deriveStatus, type StatusFacts } from '../../../src/daemon/status-facts.js';

const roles = { active: 'vm-a', standby: 'vm-b' };
const alive = (name: string) => ({ name, isAdopted: true, isQemuAlive: true });
const exited = (name: string) => ({ name, isAdopted: true, isQemuAlive: false });
const notAdopted = (name: string) => ({ name, isAdopted: false, isQemuAlive: false });

function facts(overrides: Partial<StatusFacts>): StatusFacts {
  return {
    lifecycle: 'protected',
    roles,
    vms: [alive('vm-a'), alive('vm-b')],
    apps: [{ name: 'kvd', routedTo: 'vm-a', waitingReason: undefined }],
    ...overrides,
  };
}

describe('status derived from facts', () => {
  it('a whole pair with kvd on its running active is protected and kvd running', () => {
    expect(deriveStatus(facts({}))).toEqual({
      state: 'protected',
      vms: { 'vm-a': 'running', 'vm-b': 'running' },
      apps: { kvd: { state: 'running', reason: null } },
    });
  });

  it('an exited QEMU is never running, and the app on it is down, never running', () => {
    const status = deriveStatus(facts({ vms: [exited('vm-a'), alive('vm-b')] }));
    expect(status.vms['vm-a']).toBe('exited');
    expect(status.apps.kvd).toEqual({ state: 'down', reason: 'its VM vm-a is exited' });
  });

  it('a pair whose active is gone is never protected, even before the fault is reported', () => {
    expect(deriveStatus(facts({ vms: [exited('vm-a'), alive('vm-b')] })).state).toBe('unprotected');
    expect(deriveStatus(facts({ vms: [notAdopted('vm-a'), alive('vm-b')] })).state).toBe('unprotected');
  });

  it('a pair whose standby is gone is never protected', () => {
    expect(deriveStatus(facts({ vms: [alive('vm-a'), exited('vm-b')] })).state).toBe('unprotected');
  });

  it('a standby not adopted yet is booting during re-protection, absent otherwise', () => {
    const vms = [alive('vm-a'), notAdopted('vm-b')];
    expect(deriveStatus(facts({ lifecycle: 're-protecting', vms })).vms['vm-b']).toBe('booting');
    expect(deriveStatus(facts({ lifecycle: 'blocked', vms })).vms['vm-b']).toBe('absent');
  });

  it('an app routed nowhere waits, with the reason the pair gives or the state it is in', () => {
    const apps = [
      { name: 'kvd', routedTo: undefined, waitingReason: undefined },
      { name: 'cache', routedTo: undefined, waitingReason: 'pool has 16 MiB, needs 32 MiB' },
    ];
    const status = deriveStatus(facts({ lifecycle: 'failing-over', apps }));
    expect(status.apps).toEqual({
      kvd: { state: 'waiting', reason: 'a failover is under way' },
      cache: { state: 'waiting', reason: 'pool has 16 MiB, needs 32 MiB' },
    });
    expect(deriveStatus(facts({ lifecycle: 'blocked', apps })).apps.kvd?.reason).toBe('the pair is blocked');
  });

  it('an app routed to a VM the pair does not hold is down', () => {
    const apps = [{ name: 'kvd', routedTo: 'vm-c', waitingReason: undefined }];
    expect(deriveStatus(facts({ apps })).apps.kvd).toEqual({
      state: 'down',
      reason: 'its VM vm-c is absent',
    });
  });
});
