import { describe, expect, it } from 'vitest';
import { QmpDisconnectedError } from '../../../src/errors.js';
import { createFakeVm, elapse } from './fake-vm.js';

// Defaults: silence 1500 ms, sync 1000 ms, QMP 2000 ms, a check every 250 ms; heartbeats every 500 ms.
describe('HangDetector when QMP stops answering', () => {
  it('declares qmp-unresponsive when QMP does not answer and QEMU uses no CPU', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    await elapse(1000);
    vm.set({ isGuestHealthy: false, isQmpResponsive: false, isCpuProgressing: false });
    await elapse(5000);
    expect(vm.hangs).toMatchObject([
      {
        vm: 'vm-a',
        kind: 'qmp-unresponsive',
        signals: ['heartbeat-silent', 'qmp-unresponsive', 'no-cpu-progress'],
      },
    ]);
    expect(vm.hangs[0]?.detectedAtMs).toBeLessThanOrEqual(1000 + 1500 + 250 + 2000);
  });

  it('does not declare a hang when QMP is silent but QEMU keeps using CPU', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    await elapse(1000);
    vm.set({ isGuestHealthy: false, isQmpResponsive: false, isCpuProgressing: true });
    await elapse(30_000);
    expect(vm.hangs).toEqual([]);
    expect(vm.suspects.map((event) => event.signal)).toEqual(['heartbeat-silent', 'qmp-unresponsive']);
    expect(vm.detector.state).toBe('suspect');
  });

  it('does not declare a hang when query-status fails because the QMP connection closed', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    const qmpError = new QmpDisconnectedError({ vm: 'vm-a', command: 'query-status' });
    vm.set({ isGuestHealthy: false, isCpuProgressing: false, qmpError });
    await elapse(20_000);
    expect(vm.hangs).toEqual([]);
    expect(vm.suspects.map((event) => event.signal)).toEqual(['heartbeat-silent']);
  });
});
