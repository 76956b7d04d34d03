// App exits routed through the lifecycle machine: kept while an operation runs or the pair is blocked, handed to the policy afterwards.
import { describe, expect, it, vi } from 'vitest';
import type { AppExited } from '../../../src/agent/protocol.js';
import type { Reaction } from '../../../src/lifecycle/machine.js';
import { createSilentLogger } from '../../../src/log.js';
import { defaultPairConfig } from '../../../src/pair/config.js';
import {
  createSupervision,
  onAppExited,
  recheckKeptExits,
  type SupervisedPair,
} from '../../../src/pair/supervise.js';
import type { PairVm } from '../../../src/pair/vm-factory.js';

/** kvd served from vm-a; `reaction` is what the lifecycle machine answers for an app exit now. */
function supervisedPair(options: { reaction: Reaction; runningOnVm: string[] }) {
  const state = { reaction: options.reaction };
  const faults: Array<Record<string, unknown>> = [];
  const moveApp = vi.fn(async () => ({}) as never);
  const onFault = vi.fn(async () => undefined);
  const pair: SupervisedPair = {
    config: defaultPairConfig('/nonexistent'),
    log: createSilentLogger(),
    state: 'protected',
    supervision: createSupervision(),
    endpoints: new Map([['kvd', { currentTarget: { host: '127.0.0.1', port: 1, vm: 'vm-a' } }]]) as never,
    disks: new Map(),
    persistence: { noteFault: (fields) => faults.push(fields) },
    moveApp,
    onFault,
    appExitReaction: () => state.reaction,
  };
  const vm = {
    machine: {
      spec: { name: 'vm-a', slots: [{ id: 'slot0' }] },
      agent: {
        request: async () => ({ apps: options.runningOnVm.map((name) => ({ name, pid: 7, running: true })) }),
      },
    },
  } as unknown as PairVm;
  return { pair, vm, state, faults, moveApp, onFault };
}

const oom: AppExited = { type: 'app.exited', name: 'kvd', pid: 7, code: null, signal: 9, severity: 'oom' };

describe('app exits through the lifecycle machine', () => {
  it('keeps an exit the machine joins to an operation under way, journaled, with no policy action', async () => {
    const f = supervisedPair({ reaction: 'join', runningOnVm: [] });
    await onAppExited(f.pair, f.vm, oom, 100);
    expect(f.faults).toEqual([{ vm: 'vm-a', app: 'kvd', signal: 'oom', action: 'join' }]);
    expect(f.pair.supervision.kept.get('kvd')).toMatchObject({ atMs: 100, exited: oom });
    expect(f.moveApp).not.toHaveBeenCalled();
    expect(f.onFault).not.toHaveBeenCalled();
  });

  it('hands a kept exit to the policy once it may act and the app still does not run (oom: move kvd)', async () => {
    const f = supervisedPair({ reaction: 'join', runningOnVm: [] });
    await onAppExited(f.pair, f.vm, oom, 100);
    await recheckKeptExits(f.pair); // Still joined: nothing happens, the exit stays kept.
    expect(f.moveApp).not.toHaveBeenCalled();
    expect(f.pair.supervision.kept.has('kvd')).toBe(true);
    f.state.reaction = 'app-policy';
    await recheckKeptExits(f.pair);
    expect(f.moveApp).toHaveBeenCalledTimes(1);
    expect(f.moveApp).toHaveBeenCalledWith('kvd', expect.objectContaining({ detectedAtMs: 100 }));
    expect(f.pair.supervision.kept.size).toBe(0);
    expect(f.faults.at(-1)).toMatchObject({ app: 'kvd', signal: 'oom', action: 'move-app' });
  });

  it('drops a kept exit whose app runs again where it is served (the operation restarted it)', async () => {
    const f = supervisedPair({ reaction: 'hold', runningOnVm: ['kvd'] });
    await onAppExited(f.pair, f.vm, oom, 100);
    expect(f.faults).toEqual([{ vm: 'vm-a', app: 'kvd', signal: 'oom', action: 'hold' }]);
    f.state.reaction = 'app-policy';
    await recheckKeptExits(f.pair);
    expect(f.moveApp).not.toHaveBeenCalled();
    expect(f.pair.supervision.kept.size).toBe(0);
  });

  it('journals an exit during a planned stop as expected and keeps nothing', async () => {
    const f = supervisedPair({ reaction: 'expected', runningOnVm: [] });
    await onAppExited(f.pair, f.vm, oom, 100);
    expect(f.faults).toEqual([{ vm: 'vm-a', app: 'kvd', signal: 'oom', action: 'expected' }]);
    expect(f.pair.supervision.kept.size).toBe(0);
  });

  it('ignores an exit on a VM that does not serve the app, and a stop that was asked for', async () => {
    const f = supervisedPair({ reaction: 'app-policy', runningOnVm: [] });
    const other = { machine: { spec: { name: 'vm-b', slots: [] } } } as unknown as PairVm;
    await onAppExited(f.pair, other, oom, 100);
    await onAppExited(f.pair, f.vm, { ...oom, severity: 'stopped' }, 100);
    expect(f.faults).toEqual([]);
    expect(f.moveApp).not.toHaveBeenCalled();
  });
});
