// One measured recovery on a running pair: write a key, inject the fault, time the failover's phases
// and the client's first right answer through every app's stable endpoint.
import { KvClient } from '../endpoint/kv-client.js';
import { BenchError } from '../errors.js';
import type { Pair } from '../pair/pair.js';
import type { FailoverKind, FailoverRecord } from '../state/history.js';
import type { TrafficConnector } from '../traffic/store.js';
import { waitForProtected, waitUntil } from './bench-pair.js';
import { type ProbeQuestion, waitForFirstAnswer } from './client-probe.js';
import { toBenchPhases } from './phases.js';
import type { RecoveryRun } from './report.js';
import { roundTenth } from './stats.js';

export const RECOVERY_TIMEOUT_MS = 180_000;

export interface MeasuredRecovery extends RecoveryRun {
  record: FailoverRecord;
}

/**
 * Writes `bench-<tag>` (or, with a real client, its key) to each app, injects the fault with `inject` and waits for the failover of
 * `kind` it causes. The total runs from just before `inject` to the moment the last app has answered
 * the key's GET through its endpoint while routed to the VM the apps move to (an answer still coming
 * from the failed side does not count). A whole-VM failover is followed by a wait for re-protection,
 * so the next run starts from a protected pair.
 */
export async function measureRecovery(
  pair: Pair,
  options: {
    apps: readonly string[];
    kind: FailoverKind;
    tag: string;
    inject: () => Promise<void>;
    /** A real client instead of kvd's lines: it writes and then reads back key `key` (`traffic-<key>`). */
    client?: { connect: TrafficConnector; key: number };
    /** How long re-protection may take after a whole-VM failover (a VM boot). */
    protectedTimeoutMs?: number;
  },
): Promise<MeasuredRecovery> {
  const targetVm = pair.roles.standby;
  const value = `v-${options.tag}`;
  const client = options.client;
  for (const app of options.apps) {
    if (client === undefined) await writeKey(pair.endpointPort(app), `bench-${options.tag}`, value);
    else await writeWithClient(pair.endpointPort(app), client.connect, client.key);
  }
  const question: ProbeQuestion = client ?? {
    request: `GET bench-${options.tag}`,
    expected: `VALUE ${value}`,
  };
  const seen = pair.history.length;
  const injectedAtMs = performance.now();
  const injectedAtWallMs = Date.now();
  const answers = Promise.all(
    options.apps.map((app) =>
      waitForFirstAnswer({
        ...question,
        port: pair.endpointPort(app),
        isRecovered: () => pair.endpoints.get(app)?.currentTarget?.vm === targetVm,
        timeoutMs: RECOVERY_TIMEOUT_MS,
      }),
    ),
  );
  try {
    await options.inject();
  } catch (error) {
    // The probes run on to their own deadline; their timeout is not this run's error, the injection's is.
    answers.catch(() => undefined);
    throw error;
  }
  const answeredAtMs = Math.max(...(await answers));
  const record = await waitUntil(() => pair.history.slice(seen).find((r) => r.kind === options.kind), {
    timeoutMs: RECOVERY_TIMEOUT_MS,
    what: `the ${options.kind} failover's record`,
  });
  if (record.result !== 'succeeded')
    throw new BenchError(
      options.tag,
      `the ${options.kind} failover ended ${record.result}: ${record.error ?? 'no error recorded'}`,
    );
  const totalMs = roundTenth(answeredAtMs - injectedAtMs);
  const phasesMs = toBenchPhases(record, { injectedAtWallMs, totalMs });
  if (options.kind === 'whole-vm') await waitForProtected(pair, options.protectedTimeoutMs);
  return { totalMs, phasesMs, trigger: record.trigger, record };
}

async function writeKey(port: number, key: string, value: string): Promise<void> {
  const client = await KvClient.connect(port);
  try {
    const answer = await client.request(`SET ${key} ${value}`);
    if (answer !== 'OK')
      throw new BenchError(key, `SET ${key} through 127.0.0.1:${port} answered ${answer ?? 'nothing'}`);
  } finally {
    client.close();
  }
}

async function writeWithClient(port: number, connect: TrafficConnector, key: number): Promise<void> {
  const store = await connect(port, 5000);
  try {
    if (!(await store.write(key)))
      throw new BenchError(`key ${key}`, `the write through 127.0.0.1:${port} was not acknowledged`);
  } finally {
    store.close();
  }
}
