import { describe, expect, it } from 'vitest';
import { EventBus, type FailoverView } from '../../../src/daemon/events.js';
import { waitForFailover } from '../../../src/daemon/failover-wait.js';
import { isBatonError } from '../../../src/errors.js';

const at = '2026-12-06T05:00:00.000Z';
const recordOf = (id: string, result: string): FailoverView => ({
  id,
  kind: 'whole-vm',
  trigger: 'request on vm-a',
  app: null,
  fromVm: 'vm-a',
  toVm: 'vm-b',
  startedAt: at,
  totalMs: 700,
  result,
  error: null,
  phases: [],
});

describe('waitForFailover', () => {
  it('answers a finished failover at once', async () => {
    const bus = new EventBus();
    const result = await waitForFailover({
      id: 'op1',
      waitMs: 60_000,
      bus,
      findRecord: (id) => (id === 'op1' ? recordOf('op1', 'failed') : undefined),
      runningId: () => undefined,
    });
    expect(result).toEqual({ id: 'op1', result: 'failed', phase: null, record: recordOf('op1', 'failed') });
    expect(bus.subscriberCount).toBe(0);
  });

  it('waits for the running failover to finish and returns its record', async () => {
    const bus = new EventBus();
    const history: FailoverView[] = [];
    const waiting = waitForFailover({
      id: 'op1',
      waitMs: 60_000,
      bus,
      findRecord: (id) => history.find((r) => r.id === id),
      runningId: () => 'op1',
    });
    await expect.poll(() => bus.subscriberCount, { timeout: 5000 }).toBe(1);
    history.push(recordOf('op1', 'succeeded'));
    bus.publish({
      type: 'failover',
      seq: 9,
      at,
      id: 'op1',
      state: 'finished',
      result: 'succeeded',
      record: null,
    });
    expect(await waiting).toMatchObject({ id: 'op1', result: 'succeeded', record: { result: 'succeeded' } });
    expect(bus.subscriberCount).toBe(0);
  });

  it('gives up after waitMs with the phase the failover is in, and leaves it alone', async () => {
    const bus = new EventBus();
    bus.publish({
      type: 'phase',
      seq: 1,
      at,
      id: 'op1',
      phase: 'plug',
      app: 'kvd',
      state: 'started',
      detail: null,
    });
    const startedAtMs = performance.now();
    const result = await waitForFailover({
      id: 'op1',
      waitMs: 50,
      bus,
      findRecord: () => undefined,
      runningId: () => 'op1',
    });
    expect(performance.now() - startedAtMs).toBeGreaterThanOrEqual(45);
    expect(result).toEqual({ id: 'op1', result: 'running', phase: 'plug:kvd', record: null });
    expect(bus.subscriberCount).toBe(0);
  });

  it('refuses an id that is neither finished nor running', async () => {
    const error = await waitForFailover({
      id: 'nope',
      waitMs: 10,
      bus: new EventBus(),
      findRecord: () => undefined,
      runningId: () => 'op1',
    }).catch((e: unknown) => e);
    expect(isBatonError(error, 'NOT_FOUND')).toBe(true);
    expect((error as Error).message).toBe('No failover nope: see `baton history`');
  });
});
