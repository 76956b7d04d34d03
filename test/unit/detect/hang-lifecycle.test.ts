import { describe, expect, it, vi } from 'vitest';
import { createFakeVm, elapse } from './fake-vm.js';

// Defaults: silence 1500 ms, sync 1000 ms, QMP 2000 ms, a check every 250 ms; heartbeats every 500 ms.
describe('HangDetector lifecycle', () => {
  it('reports a hang once, however long the VM stays hung', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    vm.set({ isGuestHealthy: false });
    await elapse(5000);
    const queriesAtHang = vm.statusQueries;
    await elapse(60_000);
    expect(vm.hangs).toHaveLength(1);
    expect(vm.statusQueries).toBe(queriesAtHang);
    expect(vm.detector.state).toBe('hung');
  });

  it('reports again after reset() once a new silence period confirms the hang', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    vm.set({ isGuestHealthy: false });
    await elapse(5000);
    vm.detector.reset();
    await elapse(1500);
    expect(vm.hangs).toHaveLength(1);
    await elapse(5000);
    expect(vm.hangs).toHaveLength(2);
    expect(vm.hangs[1]?.detectedAtMs).toBeGreaterThanOrEqual(5000 + 1500 + 1000);
  });

  it('stop() during a pending sync leaves no timers and reports nothing after', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    vm.set({ isGuestHealthy: false });
    await elapse(2000); // t = 2000: the sync sent at 1750 is pending
    expect(vm.nonces).toHaveLength(1);
    vm.detector.stop();
    expect(vi.getTimerCount()).toBe(0);
    await elapse(10_000);
    expect(vm.hangs).toEqual([]);
    expect(vm.detector.state).toBe('stopped');
  });

  it('stop() between checks leaves no timers', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    await elapse(1000);
    expect(vi.getTimerCount()).toBe(1);
    vm.detector.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
