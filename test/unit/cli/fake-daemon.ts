// A daemon's control API on a unix socket in a private state directory, answering from a fake controller.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { buildApi, type Controller, listenOnSocket } from '../../../src/daemon/api.js';
import { EventBus } from '../../../src/daemon/events.js';
import { socketPathOf } from '../../../src/daemon/socket-path.js';
import { createSilentLogger } from '../../../src/log.js';
import { fakeController } from '../../helpers/fake-controller.js';

/** Serves `overrides` over the fake controller; closed after the test. Returns the state directory. */
export async function serveFakeDaemon(overrides: Partial<Controller> = {}): Promise<string> {
  const stateDir = mkdtempSync(join(tmpdir(), 'baton-cli-daemon-'));
  const api = buildApi(fakeController(new EventBus(), overrides), createSilentLogger());
  onTestFinished(async () => {
    await api.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  await listenOnSocket(api, socketPathOf(stateDir));
  return stateDir;
}
