// Each app's stable endpoint opened at start: on the port a previous daemon used when it is free, held until the app is placed.
import { StableEndpoint } from '../endpoint/proxy.js';
import type { Logger } from '../log.js';
import type { AppConfig } from './config.js';

/** Opens `app`'s endpoint on the port it had before a restart (`preferredPort`), else its configured one; held. */
export async function openEndpoint(
  app: AppConfig,
  log: Logger,
  preferredPort: number | undefined,
): Promise<StableEndpoint> {
  const endpoint = new StableEndpoint({ app: app.name, log });
  await listenOnPreferred(endpoint, preferredPort, app.endpointPort);
  endpoint.hold();
  return endpoint;
}

/** Listens on the port the endpoint had before a restart, or on `fallback` when that one is taken. */
async function listenOnPreferred(
  endpoint: StableEndpoint,
  preferred: number | undefined,
  fallback: number,
): Promise<void> {
  if (preferred !== undefined && preferred !== 0) {
    try {
      await endpoint.listen(preferred);
      return;
    } catch {
      // Taken by someone else since: fall back to the configured port.
    }
  }
  await endpoint.listen(fallback);
}
