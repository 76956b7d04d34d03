import { describe, expect, it } from 'vitest';
import { describeQueue, enqueueFault, nextQueuedFault } from '../../../src/lifecycle/queue.js';

const exitA = { vm: 'vm-a', pid: 100, signal: 'qemu-exit', detectedAtMs: 10 } as const;
const qmpA = { vm: 'vm-a', pid: 100, signal: 'qmp-loss', detectedAtMs: 11 } as const;
const freshA = { vm: 'vm-a', pid: 300, signal: 'panic', detectedAtMs: 20 } as const;
const panicB = { vm: 'vm-b', pid: 200, signal: 'panic', detectedAtMs: 12 } as const;
const bothServing = [
  { vm: 'vm-a', pid: 100 },
  { vm: 'vm-b', pid: 200 },
];

describe('the fault queue', () => {
  it('keeps one entry per VM incarnation, the first signal seen', () => {
    expect(enqueueFault(enqueueFault([], exitA), qmpA)).toEqual([exitA]);
    expect(enqueueFault([exitA], panicB)).toEqual([exitA, panicB]);
    expect(enqueueFault([exitA], freshA)).toEqual([exitA, freshA]);
  });

  it('holds a fault while no standby is ready', () => {
    expect(nextQueuedFault([exitA], { isStandbyReady: false, serving: bothServing })).toEqual({
      fault: undefined,
      rest: [exitA],
      done: [],
    });
  });

  it('hands over the oldest fault of a serving incarnation once a standby is ready', () => {
    expect(nextQueuedFault([exitA, panicB], { isStandbyReady: true, serving: bothServing })).toEqual({
      fault: exitA,
      rest: [panicB],
      done: [],
    });
  });

  it('reports as done a fault of an incarnation that no longer serves, even under the same name', () => {
    expect(nextQueuedFault([exitA], { isStandbyReady: true, serving: [{ vm: 'vm-a', pid: 300 }] })).toEqual({
      fault: undefined,
      rest: [],
      done: [exitA],
    });
  });

  it('describes each queued fault for status', () => {
    expect(describeQueue([exitA])).toEqual([
      'qemu-exit on vm-a (pid 100): fails over once a standby is ready',
    ]);
  });
});
