import { describe, expect, it } from 'vitest';
import { createFakeVm, elapse } from './fake-vm.js';

// Defaults: silence 1500 ms, sync 1000 ms, QMP 2000 ms, a check every 250 ms; heartbeats every 500 ms.
describe('HangDetector while the host pauses the VM', () => {
  it('does not declare a hang while the host has paused the VM', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    await elapse(1000);
    vm.set({ isRunning: false });
    await elapse(30_000);
    expect(vm.hangs).toEqual([]);
    expect(vm.nonces).toEqual([]);
  });

  it('after a resume, waits a full silence period before suspecting the VM', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    await elapse(1000);
    vm.set({ isRunning: false });
    await elapse(10_200); // between two checks
    const resumedAtMs = Date.now();
    vm.set({ isRunning: true, isGuestHealthy: false });
    await elapse(1500);
    expect(vm.suspects.filter((event) => event.atMs >= resumedAtMs)).toEqual([]);
    await elapse(3000);
    expect(vm.hangs).toHaveLength(1);
    expect(vm.hangs[0]?.detectedAtMs).toBeGreaterThanOrEqual(resumedAtMs + 1500 + 1000);
  });

  it('counts silence from a RESUME event when QMP events are watched', async () => {
    const vm = createFakeVm({ watchRunState: true });
    vm.detector.start();
    await elapse(1000);
    vm.set({ isRunning: false });
    vm.emitRunState('stopped');
    await elapse(10_100);
    vm.set({ isRunning: true, isGuestHealthy: false });
    vm.emitRunState('resumed');
    await elapse(1500);
    expect(vm.suspects.filter((event) => event.atMs > 11_100)).toEqual([]);
    await elapse(400);
    expect(vm.suspects.at(-1)).toMatchObject({ signal: 'heartbeat-silent' });
  });

  it('does not declare a hang when the host stops the VM during the sync window', async () => {
    const vm = createFakeVm();
    vm.detector.start();
    await elapse(1000);
    vm.set({ isGuestHealthy: false });
    await elapse(2000); // t = 3000: the sync sent at 2750 is pending
    expect(vm.nonces).toHaveLength(1);
    vm.set({ isRunning: false });
    await elapse(10_000);
    expect(vm.hangs).toEqual([]);
    expect(vm.cleared.map((event) => event.reason)).toEqual(['vm-not-running']);
  });

  it('does not declare a hang when the host stops and resumes the VM during the sync window', async () => {
    const vm = createFakeVm({ watchRunState: true });
    vm.detector.start();
    await elapse(1000);
    vm.set({ isGuestHealthy: false });
    await elapse(2000); // t = 3000: the sync sent at 2750 is pending
    expect(vm.nonces).toHaveLength(1);
    vm.set({ isRunning: false });
    vm.emitRunState('stopped');
    await elapse(500);
    vm.set({ isRunning: true });
    vm.emitRunState('resumed');
    await elapse(300); // t = 3800: the sync window ended at 3750
    expect(vm.hangs).toEqual([]);
    await elapse(5000);
    expect(vm.hangs[0]?.detectedAtMs).toBeGreaterThanOrEqual(3500 + 1500 + 1000);
  });
});
