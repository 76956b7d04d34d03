// The pair's fault queue: one entry per VM incarnation, taken back as the detector's trigger once a standby is ready.
import { describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../../src/log.js';
import { FAULT_SIGNAL_OF, FaultQueue } from '../../../src/pair/fault-queue.js';

const serving = [{ vm: 'vm-a', pid: 100 }];

describe('FaultQueue', () => {
  it('keeps the first signal of an incarnation under the lifecycle name, and shows it', () => {
    const queue = new FaultQueue(createSilentLogger());
    queue.add({ vm: 'vm-a', signal: 'qemu-exit', detectedAtMs: 5 }, 100);
    queue.add({ vm: 'vm-a', signal: 'qmp-disconnect', detectedAtMs: 6 }, 100);
    expect(queue.queued).toEqual([{ vm: 'vm-a', pid: 100, signal: 'qemu-exit', detectedAtMs: 5 }]);
  });

  it('gives nothing while no standby is ready, then the oldest fault as the trigger it came from', () => {
    const queue = new FaultQueue(createSilentLogger());
    queue.add({ vm: 'vm-a', signal: 'qmp-disconnect', detectedAtMs: 7 }, 100);
    expect(queue.takeNext({ isStandbyReady: false, serving })).toBeUndefined();
    expect(queue.queued).toHaveLength(1);
    expect(queue.takeNext({ isStandbyReady: true, serving })).toEqual({
      vm: 'vm-a',
      signal: 'qmp-disconnect',
      detectedAtMs: 7,
    });
    expect(queue.queued).toEqual([]);
  });

  it('drops a fault of an incarnation that no longer serves (failed over or replaced since)', () => {
    const queue = new FaultQueue(createSilentLogger());
    queue.add({ vm: 'vm-a', signal: 'hang', detectedAtMs: 1 }, 99);
    expect(queue.takeNext({ isStandbyReady: true, serving })).toBeUndefined();
    expect(queue.queued).toEqual([]);
  });

  it('maps every detector signal to a lifecycle signal and back', () => {
    const queue = new FaultQueue(createSilentLogger());
    for (const [index, signal] of (
      Object.keys(FAULT_SIGNAL_OF) as (keyof typeof FAULT_SIGNAL_OF)[]
    ).entries()) {
      queue.add({ vm: 'vm-a', signal, detectedAtMs: index }, 100 + index);
      expect(queue.takeNext({ isStandbyReady: true, serving: [{ vm: 'vm-a', pid: 100 + index }] })).toEqual({
        vm: 'vm-a',
        signal,
        detectedAtMs: index,
      });
    }
  });
});
