// Moves both ways (issue 11 item 5, RELIABILITY.md I1-I5): kvd moved alone to the standby crash-loops
// there and moves back to the active with the same plan and executor; the audit and every
// acknowledged write close the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusView } from '../../src/daemon/views.js';
import { KvClient } from '../../src/endpoint/kv-client.js';
import { auditDaemon, qemuPidsUnder } from '../helpers/audit.js';
import { BatonDaemon } from '../helpers/daemon.js';

const stateDir = mkdtempSync(join(tmpdir(), 'baton-move-back-'));
const daemon = new BatonDaemon(stateDir);

beforeAll(async () => {
  await daemon.start();
}, 180_000);

afterAll(async () => {
  await daemon.kill('SIGTERM');
  expect(qemuPidsUnder(stateDir)).toEqual([]);
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

function kvdOf(view: StatusView) {
  const kvd = view.apps.find((a) => a.name === 'kvd');
  if (kvd === undefined) throw new Error('no kvd in the status');
  return kvd;
}

async function historyOfLength(length: number, timeoutMs: number) {
  const startedAtMs = performance.now();
  for (;;) {
    const history = await daemon.history();
    if (history.length >= length) return history;
    if (performance.now() - startedAtMs > timeoutMs)
      throw new Error(
        `waited ${timeoutMs} ms for ${length} records in the history, last saw ${history.length}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** `baton inject --fault app-crash --app kvd`: the agent of the VM that runs kvd kills it. */
async function crashKvd(): Promise<void> {
  const injected = await daemon.cli('inject', '--fault', 'app-crash', '--app', 'kvd');
  expect(injected.exitCode, injected.stderr).toBe(0);
}

describe('an app moved to the standby', () => {
  it('moves back to the active when it crash-loops on the standby, with every acknowledged write', async () => {
    const before = await daemon.status();
    const writer = await KvClient.connect(kvdOf(before).endpointPort);
    for (let i = 0; i < 20; i += 1) expect(await writer.request(`SET k${i} v${i}`)).toBe('OK');
    writer.close();

    expect((await daemon.cli('failover', '--app', 'kvd')).exitCode).toBe(0);
    const [moved] = await historyOfLength(1, 120_000);
    expect(moved).toMatchObject({
      kind: 'app',
      app: 'kvd',
      result: 'succeeded',
      fromVm: 'vm-a',
      toVm: 'vm-b',
    });
    await auditDaemon(stateDir, { daemonOutput: daemon.output() });

    // First crash: restarted in place on vm-b; a second one soon after is a crash loop.
    await crashKvd();
    await expect.poll(async () => kvdOf(await daemon.status()).restarts, { timeout: 60_000 }).toBe(1);
    await crashKvd();
    const history = await historyOfLength(2, 120_000);
    const back = history[1];
    console.log(
      `[integration] crash loop on the standby → moved back: ${back?.totalMs} ms ${JSON.stringify(back?.phases)}`,
    );
    expect(back).toMatchObject({
      kind: 'app',
      app: 'kvd',
      result: 'succeeded',
      fromVm: 'vm-b',
      toVm: 'vm-a',
    });

    const audit = await auditDaemon(stateDir, { daemonOutput: daemon.output() });
    expect(audit.status.state).toBe('protected');
    expect(kvdOf(audit.status).vm).toBe('vm-a');
    expect(audit.table.areas.find((a) => a.name === 'app:kvd')).toMatchObject({
      user: 'vm-a',
      onFailure: 'vm-b',
    });
    const reader = await KvClient.connect(kvdOf(audit.status).endpointPort, 60_000);
    for (let i = 0; i < 20; i += 1) expect(await reader.request(`GET k${i}`, 30_000)).toBe(`VALUE v${i}`);
    reader.close();
  });
});
