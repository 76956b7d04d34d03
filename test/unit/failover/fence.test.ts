import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { FenceError } from '../../../src/errors.js';
import { fenceMachine } from '../../../src/failover/fence.js';
import { createSilentLogger } from '../../../src/log.js';
import type { Machine } from '../../../src/vm/machine.js';
import { fakeProcessExit } from '../../fakes/process-exit.js';

/** A stand-in for a QEMU process: records QMP commands and signals, exits when told to. */
function fakeMachine(behaviour: { exitsOn: 'quit' | 'kill' | 'never'; stopReplies: boolean }) {
  const calls: string[] = [];
  const { exited, exit, isRunning } = fakeProcessExit();
  const qmp = Object.assign(new EventEmitter(), {
    execute: async (command: string) => {
      calls.push(command);
      if (command === 'stop' && !behaviour.stopReplies) return new Promise(() => undefined);
      if (command === 'quit' && behaviour.exitsOn === 'quit') setTimeout(exit, 5);
      return {};
    },
  });
  const machine = {
    spec: { name: 'vm-a' },
    pid: 4242,
    qmp,
    exited,
    get isRunning() {
      return isRunning();
    },
    kill: async () => {
      calls.push('SIGKILL');
      if (behaviour.exitsOn === 'kill') exit();
      return exited;
    },
  };
  return { machine: machine as unknown as Machine, calls };
}

const log = createSilentLogger();
const timeouts = { stopTimeoutMs: 50, quitTimeoutMs: 50, killTimeoutMs: 50 };

describe('fenceMachine', () => {
  it('stops, quits and confirms by the process exit', async () => {
    const { machine, calls } = fakeMachine({ exitsOn: 'quit', stopReplies: true });
    const result = await fenceMachine(machine, { log, timeouts });
    expect(result).toMatchObject({ how: 'quit', wasStopped: true });
    expect(calls).toEqual(['stop', 'quit']);
  });

  it('escalates to SIGKILL when quit is not followed by an exit', async () => {
    const { machine, calls } = fakeMachine({ exitsOn: 'kill', stopReplies: true });
    const result = await fenceMachine(machine, { log, timeouts });
    expect(result.how).toBe('killed');
    expect(calls).toEqual(['stop', 'quit', 'SIGKILL']);
  });

  it('still fences when QMP stop never answers', async () => {
    const { machine } = fakeMachine({ exitsOn: 'kill', stopReplies: false });
    const result = await fenceMachine(machine, { log, timeouts });
    expect(result).toMatchObject({ how: 'killed', wasStopped: false });
  });

  it('throws FenceError when even SIGKILL is not followed by an exit', async () => {
    const { machine } = fakeMachine({ exitsOn: 'never', stopReplies: true });
    const error = await fenceMachine(machine, { log, timeouts }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FenceError);
    expect(error).toMatchObject({
      code: 'FENCE_FAILED',
      vm: 'vm-a',
      message: 'Cannot confirm that vm-a is stopped: QEMU pid 4242 did not exit within 50 ms of SIGKILL',
    });
  });

  it('does nothing to a VM whose process already exited', async () => {
    const { machine: gone, calls: goneCalls } = fakeMachine({ exitsOn: 'kill', stopReplies: true });
    await gone.kill();
    goneCalls.length = 0;
    expect((await fenceMachine(gone, { log, timeouts })).how).toBe('already-exited');
    expect(goneCalls).toEqual([]);
  });
});
