// The guest's memory requests (seed claim 5): an app whose slot holds less than it needs asks, and
// the monitor grants from the pool (the table row carved from it, the slot plugged) or refuses with the numbers.
import type { MemRequest } from '../agent/protocol.js';
import { isBatonError } from '../errors.js';
import { targetOf } from '../memory/mechanism.js';
import { appAreaName, findArea, grantFromPool, recordObserved, startApp } from '../table/index.js';
import { formatBytes } from '../units.js';
import type { Pair } from './pair.js';
import type { PairVm } from './vm-factory.js';

export function serveMemRequests(pair: Pair, vm: PairVm): void {
  vm.machine.agent.on('memRequest', (request) => {
    void answerMemRequest(pair, vm, request);
  });
}

/** Grants or refuses one request; every refusal is logged as an audit line and answered, nothing else changes. */
async function answerMemRequest(pair: Pair, vm: PairVm, request: MemRequest): Promise<void> {
  const vmName = vm.machine.spec.name; // From the channel the request came on, never from the message.
  const log = pair.log.child({ vm: vmName, app: request.app });
  const refuse = async (reason: string) => {
    log.warn(
      { audit: 'mem.request refused', bytes: request.bytes, reason },
      'refused a guest memory request',
    );
    await vm.machine.agent
      .answerMemRequest(request.app, { granted: false, reason }, 5000)
      .catch(() => undefined);
  };
  const app = pair.config.apps.find((a) => a.name === request.app);
  if (app === undefined) return refuse(`no app ${request.app} is configured`);
  const block = pair.table.blockBytes;
  const bytes = Math.ceil(request.bytes / block) * block;
  const area = findArea(pair.table, appAreaName(app.name));
  if (area !== undefined && area.user !== vmName)
    return refuse(`${app.name}'s area belongs to ${area.user}, not ${vmName}`);
  const newSizeBytes = (area?.sizeBytes ?? 0) + bytes;
  if (newSizeBytes > app.slotMaxBytes) {
    return refuse(
      `${app.name} asked for ${formatBytes(bytes)} more, its slot holds at most ${formatBytes(app.slotMaxBytes)}`,
    );
  }
  let table = pair.table;
  try {
    table =
      area === undefined
        ? startApp(table, {
            app: app.name,
            vm: vmName,
            sizeBytes: bytes,
            hotStandby: app.hotStandby,
            slot: app.slot,
          }).table
        : grantFromPool(table, { app: app.name, bytes }).table;
  } catch (error) {
    if (isBatonError(error)) return refuse(error.message);
    throw error;
  }
  try {
    const plugged = await pair.mechanism.plug(targetOf(vm.machine), app.slot, newSizeBytes);
    pair.table = recordObserved(table, {
      area: appAreaName(app.name),
      pluggedBytes: plugged.pluggedBytes,
      atMs: plugged.observedAtMs,
      by: 'qmp',
    }).table;
  } catch (error) {
    return refuse(
      `plugging ${formatBytes(newSizeBytes)} into ${app.slot} failed: ${(error as Error).message}`,
    );
  }
  log.info({ bytes, newSizeBytes }, 'granted a guest memory request from the pool');
  await vm.machine.agent.answerMemRequest(app.name, { granted: true }, 5000);
}
