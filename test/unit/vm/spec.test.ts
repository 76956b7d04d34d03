import { describe, expect, it } from 'vitest';
import { runPathsOf, spareRootPortId } from '../../../src/vm/spec.js';

describe('a VM spec’s derived names', () => {
  it('names spare root ports by index', () => {
    expect([0, 1, 12].map(spareRootPortId)).toEqual(['rp-spare0', 'rp-spare1', 'rp-spare12']);
  });

  it('puts every socket, the pid file and both logs in the run directory, each under its own name', () => {
    const paths = runPathsOf('/run/baton/vm-a');
    expect(paths).toEqual({
      qmpSocket: '/run/baton/vm-a/qmp.sock',
      agentSocket: '/run/baton/vm-a/agent.sock',
      pidFile: '/run/baton/vm-a/qemu.pid',
      serialLog: '/run/baton/vm-a/serial.log',
      qemuLog: '/run/baton/vm-a/qemu.log',
    });
    expect(new Set(Object.values(paths)).size).toBe(5);
  });
});
