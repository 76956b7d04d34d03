import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isUnanswered, NODE_TIMERS, ProbeDeadlines } from '../../../src/detect/deadline.js';
import { AgentError, WaitTimeoutError } from '../../../src/errors.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const never = () => new Promise<never>(() => undefined);

describe('ProbeDeadlines', () => {
  it('times out a probe that ignores its own timeout', async () => {
    const deadlines = new ProbeDeadlines(NODE_TIMERS);
    const outcome = deadlines.run(deadlines.generation, never, 1000);
    await vi.advanceTimersByTimeAsync(1000);
    await expect(outcome).resolves.toEqual({ status: 'timed-out' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reports a probe that throws synchronously as failed', async () => {
    const deadlines = new ProbeDeadlines(NODE_TIMERS);
    const error = new Error('boom');
    const outcome = await deadlines.run(
      deadlines.generation,
      () => {
        throw error;
      },
      1000,
    );
    expect(outcome).toEqual({ status: 'failed', error });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancels pending probes and clears their timers', async () => {
    const deadlines = new ProbeDeadlines(NODE_TIMERS);
    const outcome = deadlines.run(deadlines.generation, never, 1000);
    deadlines.cancelAll();
    await expect(outcome).resolves.toEqual({ status: 'cancelled' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not start a probe of an ended generation', async () => {
    const deadlines = new ProbeDeadlines(NODE_TIMERS);
    const generation = deadlines.generation;
    deadlines.cancelAll();
    const probe = vi.fn(async () => 1);
    await expect(deadlines.run(generation, probe, 1000)).resolves.toEqual({ status: 'cancelled' });
    expect(probe).not.toHaveBeenCalled();
  });

  it("counts the probe's own WaitTimeoutError as no answer, other errors as answers of a kind", () => {
    const timeout = new WaitTimeoutError({ waitedFor: 'a reply', timeoutMs: 10 });
    const refused = new AgentError({ vm: 'vm-a', agentCode: 'disconnected', message: 'closed' });
    expect(isUnanswered({ status: 'timed-out' })).toBe(true);
    expect(isUnanswered({ status: 'failed', error: timeout })).toBe(true);
    expect(isUnanswered({ status: 'failed', error: refused })).toBe(false);
    expect(isUnanswered({ status: 'cancelled' })).toBe(false);
  });
});
