import { afterEach, describe, expect, it, vi } from 'vitest';
import { activeVmOf, injectWholeVmFault } from '../../../src/bench/faults.js';
import type { Pair } from '../../../src/pair/pair.js';

/** A pair whose active VM's agent records each request and fails each with `agentError` when set. */
function pairWithAgent(agentError?: Error) {
  const requests: string[] = [];
  const answer = async (what: string) => {
    requests.push(what);
    if (agentError !== undefined) throw agentError;
    return {};
  };
  const agent = {
    injectPanic: (timeoutMs: number) => answer(`panic ${timeoutMs}`),
    request: (method: string, params: object, timeoutMs: number) =>
      answer(`${method} ${JSON.stringify(params)} ${timeoutMs}`),
  };
  const pair = { state: 'protected', activeVm: { machine: { pid: 4321, agent } } } as unknown as Pair;
  return { pair, requests };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('injectWholeVmFault', () => {
  it("kills the active VM's QEMU with SIGKILL", async () => {
    const kill = vi.spyOn(process, 'kill').mockReturnValue(true);
    const { pair, requests } = pairWithAgent();
    await injectWholeVmFault(pair, 'qemu-killed');
    expect(kill).toHaveBeenCalledWith(4321, 'SIGKILL');
    expect(requests).toEqual([]);
  });

  it('asks the agent for a panic and for a hang', async () => {
    const { pair, requests } = pairWithAgent();
    await injectWholeVmFault(pair, 'guest-panic');
    await injectWholeVmFault(pair, 'guest-hang');
    expect(requests).toEqual(['panic 3000', 'fault.hang {} 5000']);
  });

  it('takes no reply from a dying guest as the fault under way', async () => {
    const { pair, requests } = pairWithAgent(new Error('agent connection closed'));
    await expect(injectWholeVmFault(pair, 'guest-panic')).resolves.toBeUndefined();
    await expect(injectWholeVmFault(pair, 'guest-hang')).resolves.toBeUndefined();
    expect(requests).toHaveLength(2);
  });

  it('fails without touching any process when the pair has no active VM', async () => {
    const kill = vi.spyOn(process, 'kill').mockReturnValue(true);
    const pair = { state: 'blocked', activeVm: undefined } as unknown as Pair;
    await expect(injectWholeVmFault(pair, 'qemu-killed')).rejects.toMatchObject({
      code: 'BENCH_FAILED',
      message: 'Benchmark recovery failed: the pair has no active VM (state blocked)',
    });
    expect(kill).not.toHaveBeenCalled();
  });
});

describe('activeVmOf', () => {
  it("returns the pair's active VM", () => {
    const { pair } = pairWithAgent();
    expect(activeVmOf(pair)).toBe(pair.activeVm);
  });
});
