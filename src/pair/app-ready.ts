// Starting an app through its agent and waiting until it is ready: by its line check through the endpoint's forward, or by the agent's app.ready.
import { APP_START_CONFIG_ERRORS, type AppStartRequest } from '../agent/protocol.js';
import { AgentError, WaitTimeoutError } from '../errors.js';
import type { AppConfig } from './config.js';
import { waitForHealthy } from './health.js';
import type { PairVm } from './vm-factory.js';

/** How long app.start may take: the spawn, plus a unit's systemctl start, plus a prepare on a fresh disk (the agent's cap). */
export const APP_START_TIMEOUT_MS = 15_000;
export const UNIT_START_EXTRA_MS = 180_000; // The agent's UNIT_START_TIMEOUT_MS (guest-agent/src/agent.h).
export const PREPARE_EXTRA_MS = 300_000;

export function appStartTimeoutMs(app: AppConfig): number {
  return (
    APP_START_TIMEOUT_MS +
    (app.unit === undefined ? 0 : UNIT_START_EXTRA_MS) +
    (app.dataDisk?.prepare === undefined ? 0 : PREPARE_EXTRA_MS)
  );
}

/**
 * A line check (PING/PONG, or its send/expect) passes through QEMU's user-network forward, so the
 * host asks it itself. A tcp, http or exec check cannot be judged from the host (the forward accepts
 * every connection), so the host waits for the agent's app.ready after its first passing check.
 */
export function isReadyReportedByAgent(app: AppConfig): boolean {
  const kind = app.health?.kind ?? 'line';
  return kind !== 'line';
}

/** True when an app.start failed because of the app's configuration: no failover or move fixes it. */
export function isConfigStartFailure(error: unknown): error is AgentError {
  return (
    error instanceof AgentError && (APP_START_CONFIG_ERRORS as readonly string[]).includes(error.agentCode)
  );
}

/**
 * Sends app.start and waits until the app is ready; resolves with the guest pid. The app.ready
 * listener is armed before the request, since the reply and app.ready may arrive in one read.
 */
export async function startAppAndAwaitReady(
  vm: PairVm,
  app: AppConfig,
  request: AppStartRequest,
  options: {
    healthTimeoutMs: number;
    what: string;
    phase: <T>(name: string, work: () => Promise<T>) => Promise<T>;
  },
): Promise<number> {
  const { agent } = vm.machine;
  let readyPid: number | undefined;
  let onReady: (() => void) | undefined;
  const listener = (ready: { name: string; pid: number }) => {
    if (ready.name !== app.name) return;
    readyPid = ready.pid;
    onReady?.();
  };
  const isByAgent = isReadyReportedByAgent(app);
  if (isByAgent) agent.on('appReady', listener);
  try {
    const started = await options.phase('start', () => agent.appStart(request, appStartTimeoutMs(app)));
    const hostPort = vm.forwards.get(app.name) ?? 0;
    await options.phase('healthy', async () => {
      if (!isByAgent) {
        await waitForHealthy(hostPort, {
          timeoutMs: options.healthTimeoutMs,
          what: options.what,
          ...(app.health?.send === undefined ? {} : { send: app.health.send }),
          ...(app.health?.expect === undefined ? {} : { expect: app.health.expect }),
        });
        return;
      }
      await waitForReady(
        () => readyPid === started.pid,
        (wake) => {
          onReady = wake;
        },
        options.healthTimeoutMs,
        `${options.what} to report app.ready (health ${app.health?.kind})`,
      );
    });
    return started.pid;
  } finally {
    if (isByAgent) agent.off('appReady', listener);
  }
}

async function waitForReady(
  isReady: () => boolean,
  arm: (wake: () => void) => void,
  timeoutMs: number,
  waitedFor: string,
): Promise<void> {
  if (isReady()) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new WaitTimeoutError({ waitedFor, timeoutMs, lastSeen: 'no app.ready from the agent' })),
      timeoutMs,
    );
    arm(() => {
      if (!isReady()) return;
      clearTimeout(timer);
      resolve();
    });
  });
}
