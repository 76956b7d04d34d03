// Connects a HangDetector to a running Machine: agent heartbeats and sync, QMP state, QEMU CPU time.
import type { QmpEvent } from '../qmp/client.js';
import { queryStatus } from '../qmp/commands.js';
import type { Machine } from '../vm/machine.js';
import type { HangDetectorOptions } from './hang-types.js';
import { processCpuTicksOf } from './process-cpu.js';

export type MachineProbes = Pick<
  HangDetectorOptions,
  'vm' | 'heartbeatAgeMs' | 'sync' | 'queryRunState' | 'processProgress' | 'watchRunState' | 'clock'
> & { heartbeatPeriodMs?: number };

/**
 * The probes for `machine`, all on the host's monotonic clock (the agent channel stamps heartbeats
 * with performance.now() on receipt; the guest's own uptime is never used). Spread into
 * `new HangDetector({ ...machineProbes(machine), thresholds, log })` after the agent's hello.
 */
export function machineProbes(machine: Machine): MachineProbes {
  const { agent, qmp } = machine;
  const heartbeatPeriodMs = agent.hello?.heartbeatMs;
  return {
    vm: machine.spec.name,
    clock: performance,
    heartbeatAgeMs: () =>
      agent.lastHeartbeatAtMs === undefined ? undefined : performance.now() - agent.lastHeartbeatAtMs,
    sync: (nonce, timeoutMs) => agent.sync(nonce, timeoutMs),
    // queryStatus has no deadline of its own; the detector races it against qmpTimeoutMs.
    queryRunState: () => queryStatus(qmp),
    processProgress: processCpuTicksOf(machine.pid),
    watchRunState: (listener) => {
      const onEvent = (event: QmpEvent) => {
        if (event.event === 'STOP') listener('stopped');
        else if (event.event === 'RESUME') listener('resumed');
      };
      qmp.on('event', onEvent);
      return () => {
        qmp.off('event', onEvent);
      };
    },
    ...(heartbeatPeriodMs === undefined ? {} : { heartbeatPeriodMs }),
  };
}
