// A failover context made of recorders: every action is logged as a line, any one can be made to fail.
import type { FailoverContext, OperationJournal } from '../../../src/failover/context.js';
import { createSilentLogger } from '../../../src/log.js';
import type { FailoverRecord } from '../../../src/state/history.js';
import type { ResourceTable } from '../../../src/table/types.js';
import { MiB } from '../../../src/units.js';

export interface FakeContext {
  ctx: FailoverContext;
  /** Every action in order: `plug vm-b A 128`, `journal intent plug`. */
  calls: string[];
  /** Makes the action named by its first words (`start vm-b`) throw `error`. */
  failOn: Map<string, Error>;
  /** Apps the fake agents report running, as `vm/app`. */
  running: Set<string>;
  table: { current: ResourceTable };
  kept: FailoverRecord[];
  blocked: string[];
}

export function fakeContext(table: ResourceTable): FakeContext {
  const calls: string[] = [];
  const failOn = new Map<string, Error>();
  const running = new Set<string>();
  const act = async (line: string) => {
    calls.push(line);
    for (const [prefix, error] of failOn) if (line.startsWith(prefix)) throw error;
  };
  const journal: OperationJournal = {
    open: (fields) => calls.push(`journal open ${fields.kind} ${fields.fromVm}→${fields.toVm}`),
    adopt: (op) => calls.push(`journal adopt ${op.id}`),
    intent: async (_id, name) => void calls.push(`journal intent ${name}`),
    result: (_id, name, outcome) => calls.push(`journal ${outcome} ${name}`),
    flush: async () => undefined,
    close: (_id, result) => calls.push(`journal close ${result}`),
    rollBack: async (_id, failure) => void calls.push(`journal rolling-back ${failure.error}`),
    undoIntent: async (_id, name) => void calls.push(`journal intent undo-${name}`),
    undoResult: (_id, name, _step, outcome) => void calls.push(`journal ${outcome} undo-${name}`),
  };
  const fake: FakeContext = {
    calls,
    failOn,
    running,
    table: { current: table },
    kept: [],
    blocked: [],
    ctx: {
      log: createSilentLogger(),
      journal,
      isFaultInjectionAllowed: true,
      fence: (vm) => act(`fence ${vm}`),
      stopApp: async (vm, app) => {
        await act(`stop ${vm} ${app}`);
        running.delete(`${vm}/${app}`);
      },
      isAppRunning: async (vm, app) => running.has(`${vm}/${app}`),
      plug: async (vm, app, sizeBytes) => {
        await act(`plug ${vm} ${app} ${sizeBytes / MiB}`);
        return sizeBytes;
      },
      unplug: (vm, app) => act(`unplug ${vm} ${app}`),
      confirm: (vm, app) => act(`confirm ${vm} ${app}`),
      attachDisk: (vm, app, isRedo) => act(`attach-disk ${vm} ${app}${isRedo ? ' again' : ''}`),
      detachDisk: (vm, app) => act(`detach-disk ${vm} ${app}`),
      startApp: async (vm, app) => {
        await act(`start ${vm} ${app}`);
        running.add(`${vm}/${app}`);
      },
      waitHealthy: (vm, app) => act(`healthy ${vm} ${app}`),
      sizeOf: () => 128 * MiB,
      serveFrom: (app, vm) => void calls.push(`serve ${app} from ${vm}`),
      hold: (app) => void calls.push(`hold ${app}`),
      commit: (kind, from, change) => {
        calls.push(`commit ${kind} from ${from}`);
        fake.table.current = change(fake.table.current);
      },
      keep: (record) => void fake.kept.push(record),
      block: (reason) => void fake.blocked.push(reason),
    },
  };
  return fake;
}

/** The calls without the journal's lines. */
export function actions(fake: FakeContext): string[] {
  return fake.calls.filter((line) => !line.startsWith('journal'));
}
