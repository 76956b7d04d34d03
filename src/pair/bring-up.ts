// The steps of bringing a fresh pair up: each app's data disk and stable endpoint, both VMs booted in parallel, every app started on the active.
import type { StableEndpoint } from '../endpoint/proxy.js';
import type { AgentError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Accel } from '../vm/spec.js';
import { diskPathOf, type PairConfig } from './config.js';
import { type DataDisk, ensureDataDisk } from './disk.js';
import { openEndpoint } from './endpoints.js';
import { noteStartFailure, type SupervisedPair } from './supervise.js';
import { bootPairVm, type PairVm } from './vm-factory.js';

/** Each app's data disk (created when missing) and its endpoint, held, on the port it had before a restart when that one is free. */
export async function openAppParts(
  config: PairConfig,
  log: Logger,
  preferredPorts: Readonly<Record<string, number>> | undefined,
): Promise<{ app: string; disk?: DataDisk; endpoint: StableEndpoint }[]> {
  const parts: { app: string; disk?: DataDisk; endpoint: StableEndpoint }[] = [];
  for (const app of config.apps) {
    const disk =
      app.diskBytes === undefined
        ? undefined
        : await ensureDataDisk(app.name, diskPathOf(config, app.name), app.diskBytes);
    const endpoint = await openEndpoint(app, log, preferredPorts?.[app.name]);
    parts.push({ app: app.name, endpoint, ...(disk === undefined ? {} : { disk }) });
  }
  return parts;
}

/** Boots the active and the standby in parallel; each VM that booted is adopted, then the first failure is thrown. */
export async function bootBoth(
  config: PairConfig,
  roles: { readonly active: string; readonly standby: string },
  options: { accel: Accel; log: Logger },
  adopt: (vm: PairVm) => void,
): Promise<void> {
  const booted = await Promise.allSettled([
    bootPairVm(config, roles.active, 'active', options),
    bootPairVm(config, roles.standby, 'standby', options),
  ]);
  for (const result of booted) if (result.status === 'fulfilled') adopt(result.value);
  const failed = booted.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/** Starts every configured app on the active, in config order; a configuration failure leaves that app waiting (`status` shows why). */
export async function startEveryApp(
  pair: Pick<SupervisedPair, 'config' | 'supervision' | 'log'> & {
    readonly roles: { readonly active: string };
  },
  startOnActive: (app: string) => Promise<void>,
  progress: (line: string) => void,
): Promise<void> {
  for (const app of pair.config.apps) {
    progress(`starting ${app.name} on ${pair.roles.active} ...`);
    await startOnActive(app.name).catch((error: unknown) => {
      // A configuration failure leaves the app waiting (baton status shows why); the pair comes up.
      if (!noteStartFailure(pair, app.name, pair.roles.active, error)) throw error;
      progress(`${app.name} did not start: ${(error as AgentError).agentMessage}`);
    });
  }
}
