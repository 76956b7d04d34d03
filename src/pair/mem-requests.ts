// The guest's memory requests (seed claim 5): an app whose slot holds less than it needs asks, and
// the monitor grants through the one grant path (grant.ts) or refuses with the numbers.
import type { MemRequest } from '../agent/protocol.js';
import type { Logger } from '../log.js';
import type { Granted } from './grant.js';
import type { PairVm } from './vm-factory.js';

/** The pair's one grant path (Pair.grantMemory, which wraps grant.ts). */
export interface GrantPath {
  readonly log: Logger;
  grantMemory(request: { app: string; extraBytes: number; vm?: string }): Promise<Granted>;
}

export function serveMemRequests(host: GrantPath, vm: PairVm): void {
  vm.machine.agent.on('memRequest', (request) => {
    void answerMemRequest(host, vm, request);
  });
}

/**
 * Grants or refuses one request; every refusal is logged as an audit line and answered, nothing
 * else changes. An answer the guest does not take is logged as such: a grant stays granted.
 */
async function answerMemRequest(host: GrantPath, vm: PairVm, request: MemRequest): Promise<void> {
  const vmName = vm.machine.spec.name; // From the channel the request came on, never from the message.
  const log = host.log.child({ vm: vmName, app: request.app });
  let answer: { granted: boolean; reason?: string };
  try {
    const granted = await host.grantMemory({ app: request.app, extraBytes: request.bytes, vm: vmName });
    log.info(granted, 'granted a guest memory request from the pool');
    answer = { granted: true };
  } catch (error) {
    // Any failure is a refusal to the guest (its reason logged): the table is unchanged.
    const reason = (error as Error).message;
    log.warn(
      { audit: 'mem.request refused', bytes: request.bytes, reason },
      'refused a guest memory request',
    );
    answer = { granted: false, reason };
  }
  await vm.machine.agent.answerMemRequest(request.app, answer, 5000).catch((error: Error) => {
    // The guest is gone or did not take it in time: a grant stays granted (the table and QEMU agree).
    log.warn({ granted: answer.granted, err: error.message }, 'could not answer a guest memory request');
  });
}
