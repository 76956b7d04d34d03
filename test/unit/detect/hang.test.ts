import { describe, expect, it } from 'vitest';
import { AgentError, WaitTimeoutError } from '../../../src/errors.js';
import { createFakeVm, elapse } from './fake-vm.js';

// Defaults: silence 1500 ms, sync 1000 ms, QMP 2000 ms, a check every 250 ms; heartbeats every 500 ms.
describe('HangDetector on heartbeats and sync', () => {
  it('reports nothing while heartbeats arrive', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    await elapse(10_000);
    expect(vm.hangs).toEqual([]);
    expect(vm.suspects).toEqual([]);
    expect(vm.statusQueries).toBe(0);
    expect(vm.nonces).toEqual([]);
  });

  it('declares a hang when heartbeats stop and a fresh sync goes unanswered while the VM runs', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    await elapse(1000);
    vm.set({ isGuestHealthy: false });
    await elapse(5000);
    expect(vm.hangs).toEqual([
      {
        vm: 'vm-a',
        kind: 'agent-unresponsive',
        signals: ['heartbeat-silent', 'sync-unanswered'],
        detectedAtMs: expect.any(Number),
        silenceMs: expect.any(Number),
      },
    ]);
    const [hang] = vm.hangs;
    expect(hang?.detectedAtMs).toBeLessThanOrEqual(1000 + 1500 + 250 + 1000);
    expect(hang?.silenceMs).toBeGreaterThan(1500 + 1000);
  });

  it('does not declare a hang when the guest answers sync though its heartbeats are lost', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    await elapse(1000);
    vm.set({ areHeartbeatsDelivered: false });
    await elapse(20_000);
    expect(vm.hangs).toEqual([]);
    expect(vm.nonces.length).toBeGreaterThan(0);
    expect(vm.cleared.map((event) => event.reason)).toContain('sync-answered');
  });

  it('after an answered sync, waits a full silence period before the next one', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    vm.set({ areHeartbeatsDelivered: false });
    await elapse(10_000);
    expect(vm.nonces.length).toBeGreaterThan(0);
    expect(vm.nonces.length).toBeLessThanOrEqual(10_000 / 1500);
  });

  it('does not declare a hang when heartbeats come back while a sync goes unanswered', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    await elapse(1000);
    vm.set({ areHeartbeatsDelivered: false, areSyncsAnswered: false });
    await elapse(2000); // t = 3000: the sync sent at 2750 is pending
    expect(vm.nonces).toHaveLength(1);
    vm.set({ areHeartbeatsDelivered: true });
    await elapse(5000);
    expect(vm.hangs).toEqual([]);
    expect(vm.cleared.map((event) => event.reason)).toEqual(['heartbeat-resumed']);
  });

  it('sends a fresh nonce with every sync', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    vm.set({ areHeartbeatsDelivered: false });
    await elapse(20_000);
    expect(vm.nonces.length).toBeGreaterThan(3);
    expect(new Set(vm.nonces).size).toBe(vm.nonces.length);
  });

  it('never checks the VM over stalls that keep heartbeat silence under the threshold', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    for (let stall = 0; stall < 5; stall += 1) {
      await elapse(1000);
      vm.set({ isGuestHealthy: false });
      await elapse(900);
      vm.set({ isGuestHealthy: true });
    }
    await elapse(1000);
    expect(vm.suspects).toEqual([]);
    expect(vm.statusQueries).toBe(0);
  });

  it('does not declare a hang over stalls shorter than the silence threshold', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    for (let stall = 0; stall < 5; stall += 1) {
      await elapse(1000);
      vm.set({ isGuestHealthy: false });
      await elapse(1400);
      vm.set({ isGuestHealthy: true });
    }
    await elapse(3000);
    expect(vm.hangs).toEqual([]);
    expect(vm.detector.state).toBe('watching');
  });

  it('honours a configured silence threshold', async () => {
    const vm = createFakeVm({ thresholds: { heartbeatSilenceMs: 5000 } });
    vm.detector.start();
    await elapse(1000);
    vm.set({ isGuestHealthy: false });
    await elapse(4900);
    expect(vm.suspects).toEqual([]);
    await elapse(2000);
    expect(vm.hangs).toHaveLength(1);
  });

  it('counts a sync rejected with its own WaitTimeoutError as unanswered', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    const syncError = new WaitTimeoutError({ waitedFor: "the agent's reply to sync", timeoutMs: 1000 });
    vm.set({ isGuestHealthy: false, syncError });
    await elapse(5000);
    expect(vm.hangs).toMatchObject([{ kind: 'agent-unresponsive' }]);
  });

  it('does not declare a hang when sync cannot be sent because the agent channel closed', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    const syncError = new AgentError({ vm: 'vm-a', agentCode: 'disconnected', message: 'closed' });
    vm.set({ isGuestHealthy: false, syncError });
    await elapse(20_000);
    expect(vm.hangs).toEqual([]);
    expect(vm.detector.state).toBe('suspect');
  });
});
