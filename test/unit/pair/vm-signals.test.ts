// A VM's fault signals: panic, QMP loss, QEMU exit and hang each reach the pair, once per incarnation, and only while they matter.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../../src/log.js';
import type { PairVm } from '../../../src/pair/vm-factory.js';
import { watchVmSignals } from '../../../src/pair/vm-signals.js';

/** A VM whose QMP and process a test drives; the hang detector's probes never answer (it is stopped at once). */
function fakeVm() {
  const qmp = new EventEmitter();
  let exit: () => void = () => undefined;
  const exited = new Promise<void>((resolve) => {
    exit = resolve;
  });
  const agent = Object.assign(new EventEmitter(), { lastHeartbeatAtMs: undefined });
  const vm = {
    machine: { spec: { name: 'vm-a' }, qmp, exited, agent, isRunning: true },
  } as unknown as PairVm;
  return { vm, qmp, exit: () => exit() };
}

function watch(isCurrent = () => true) {
  const fake = fakeVm();
  const signals: string[] = [];
  const detector = watchVmSignals(fake.vm, {
    log: createSilentLogger(),
    hangThresholds: undefined,
    isCurrent,
    onSignal: (signal) => signals.push(signal),
  });
  detector.stop();
  return { ...fake, signals, detector };
}

describe('watchVmSignals', () => {
  it('reports a guest panic, and nothing more of that incarnation (its QMP close and exit follow)', async () => {
    const w = watch();
    w.qmp.emit('event', { event: 'GUEST_PANICKED' });
    w.qmp.emit('close');
    w.exit();
    await Promise.resolve();
    expect(w.signals).toEqual(['GUEST_PANICKED']);
  });

  it('reports a QEMU exit, a QMP loss and a declared hang', async () => {
    const exit = watch();
    exit.exit();
    await exit.vm.machine.exited;
    await Promise.resolve();
    expect(exit.signals).toEqual(['qemu-exit']);
    const close = watch();
    close.qmp.emit('event', { event: 'RESUME' });
    close.qmp.emit('close');
    expect(close.signals).toEqual(['qmp-disconnect']);
    const hang = watch();
    hang.detector.emit('hang', {
      vm: 'vm-a',
      kind: 'agent-unresponsive',
      signals: ['heartbeat-silent', 'sync-unanswered'],
      detectedAtMs: 1,
      silenceMs: 4000,
    });
    expect(hang.signals).toEqual(['hang']);
  });

  it('ignores signals that do not matter (an old incarnation, a planned stop) and does not count them', () => {
    let isCurrent = false;
    const w = watch(() => isCurrent);
    w.qmp.emit('close');
    expect(w.signals).toEqual([]);
    isCurrent = true;
    w.qmp.emit('event', { event: 'GUEST_PANICKED' });
    expect(w.signals).toEqual(['GUEST_PANICKED']);
  });
});
