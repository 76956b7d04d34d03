import { describe, expect, it } from 'vitest';
import { describeQueue, enqueueFault, nextQueuedFault } from '../../../src/lifecycle/queue.js';

const exitA = { vm: 'vm-a', signal: 'qemu-exit', detectedAtMs: 10 } as const;
const qmpA = { vm: 'vm-a', signal: 'qmp-loss', detectedAtMs: 11 } as const;
const panicB = { vm: 'vm-b', signal: 'panic', detectedAtMs: 12 } as const;

describe('the fault queue', () => {
  it('keeps one entry per VM, the first signal seen', () => {
    expect(enqueueFault(enqueueFault([], exitA), qmpA)).toEqual([exitA]);
    expect(enqueueFault([exitA], panicB)).toEqual([exitA, panicB]);
  });

  it('holds a fault while no standby is ready', () => {
    expect(nextQueuedFault([exitA], { isStandbyReady: false, servingVms: ['vm-a'] })).toEqual({
      fault: undefined,
      rest: [exitA],
      done: [],
    });
  });

  it('hands over the oldest fault of a serving VM once a standby is ready', () => {
    expect(nextQueuedFault([exitA, panicB], { isStandbyReady: true, servingVms: ['vm-a', 'vm-b'] })).toEqual({
      fault: exitA,
      rest: [panicB],
      done: [],
    });
  });

  it('reports as done a fault of a VM that no longer serves', () => {
    expect(nextQueuedFault([exitA], { isStandbyReady: true, servingVms: ['vm-b'] })).toEqual({
      fault: undefined,
      rest: [],
      done: [exitA],
    });
  });

  it('describes each queued fault for status', () => {
    expect(describeQueue([exitA])).toEqual(['qemu-exit on vm-a: fails over once a standby is ready']);
  });
});
