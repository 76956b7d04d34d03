import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { auditDaemon, qemuPidsUnder } from '../helpers/audit.js';
import { dumpDom, findChromium, NO_CHROMIUM_REASON, screenshot } from '../helpers/chromium.js';
import { BatonDaemon } from '../helpers/daemon.js';
import { cellTexts, elementsWith } from '../helpers/dom-text.js';

const SCREENSHOT_PATH = join(PACKAGE_ROOT, 'test-artifacts', 'status-page.png');
const chromium = findChromium();
if (chromium === undefined) console.log(`[integration] skipping the status page test: ${NO_CHROMIUM_REASON}`);

/** A loopback port nobody listens on right now (the daemon binds it a moment later). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

describe.skipIf(chromium === undefined)('the live status page', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'baton-page-'));
  const daemon = new BatonDaemon(stateDir);
  let url = '';

  beforeAll(async () => {
    // The demo pair, on this state directory, with the metrics listener (and so the page) on.
    const port = await freePort();
    const config = parse(readFileSync(join(PACKAGE_ROOT, 'contrib', 'baton.yaml'), 'utf8'));
    const configPath = join(stateDir, 'baton.yaml');
    writeFileSync(configPath, stringify({ ...config, stateDir, metrics: { listen: `127.0.0.1:${port}` } }));
    await daemon.start({}, ['--config', configPath]);
    url = `http://127.0.0.1:${port}/`;
    expect(daemon.output()).toContain(`status page: ${url}`);
  }, 200_000);

  afterAll(async () => {
    if (daemon.isRunning) await daemon.down();
    expect(qemuPidsUnder(stateDir)).toEqual([]);
    rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  it('draws the table, both VMs, the apps and a whole-VM failover by phase', async () => {
    const started = await daemon.cli('--json', 'failover');
    expect(started.exitCode).toBe(0);
    const { id } = JSON.parse(started.stdout) as { id: string };
    const audit = await auditDaemon(stateDir, { daemonOutput: daemon.output() });
    const record = audit.history.find((r) => r.id === id);
    expect(record).toMatchObject({ kind: 'whole-vm', result: 'succeeded', fromVm: 'vm-a', toVm: 'vm-b' });
    expect(audit.status.vms.map((vm) => [vm.name, vm.role, vm.state])).toEqual([
      ['vm-b', 'active', 'running'],
      ['vm-a', 'standby', 'running'],
    ]);

    const renderStartedMs = performance.now();
    const dom = await dumpDom(chromium as string, url);
    const renderMs = Math.round(performance.now() - renderStartedMs);

    // The page polled the daemon (its script ran under its CSP) and says when.
    expect(dom).toMatch(
      /<span id="freshness" class="sub">updated \d\d:\d\d:\d\d UTC, polling every 1\.0 s<\/span>/,
    );
    expect(dom).toMatch(/<span id="pair-state" class="badge big good">protected<\/span>/);

    // The table: one row per VM (the new active first) and the monitor's, each area to scale.
    const rows = elementsWith(dom, 'data-user');
    expect(rows.map((row) => row.attributes.get('data-user'))).toEqual(['vm-b', 'vm-a', 'monitor']);
    const areasIn = (user: string) =>
      elementsWith(
        rows.find((row) => row.attributes.get('data-user') === user)?.inner ?? '',
        'data-area',
      ).map((s) => s.attributes.get('data-area'));
    const vmB = areasIn('vm-b');
    expect(vmB).toEqual(expect.arrayContaining(['os:vm-b', 'app:kvd']));
    expect(areasIn('vm-a')).toEqual(['os:vm-a']);
    expect(areasIn('monitor')).toEqual(['monitor', 'pool']);
    const segments = elementsWith(dom, 'data-area');
    expect(segments.map((s) => s.attributes.get('data-area')).sort()).toEqual(
      audit.table.areas.map((a) => a.name).sort(),
    );
    for (const area of audit.table.areas) {
      const segment = segments.find((s) => s.attributes.get('data-area') === area.name);
      const widthPct = Math.round((area.sizeBytes / audit.table.budgetBytes) * 10_000) / 100;
      expect(segment?.attributes.get('style'), area.name).toContain(`width: ${widthPct}%`);
    }

    // Both VMs and every app, with the states the API reports.
    const vms = elementsWith(dom, 'data-vm').map((row) => cellTexts(row.inner).slice(0, 4));
    expect(vms).toEqual(audit.status.vms.map((vm) => [vm.name, vm.role, vm.state, String(vm.pid)]));
    const apps = elementsWith(dom, 'data-app').map((row) => cellTexts(row.inner));
    expect(apps).toEqual(
      audit.status.apps.map((app) => [
        app.name,
        app.vm ?? '-',
        app.state,
        String(app.restarts),
        `127.0.0.1:${app.endpointPort}`,
      ]),
    );
    expect(apps[0]?.slice(0, 3)).toEqual(['kvd', 'vm-b', 'running']);

    // The failover, with a bar per phase in the recorded order.
    const failovers = elementsWith(dom, 'data-failover');
    expect(
      failovers.map((f) => [f.attributes.get('data-failover'), f.attributes.get('data-result')]),
    ).toEqual([[id, 'succeeded']]);
    const phases = elementsWith(failovers[0]?.inner ?? '', 'data-phase').map((p) =>
      p.attributes.get('data-phase'),
    );
    expect(phases).toEqual(record?.phases.map((p) => p.name));
    expect(phases).toEqual(expect.arrayContaining(['fence']));
    const bars = elementsWith(failovers[0]?.inner ?? '', 'title').filter((e) =>
      e.attributes.get('class')?.startsWith('pbar'),
    );
    expect(bars.map((bar) => bar.attributes.get('title')?.split(':')[0])).toEqual(phases);

    mkdirSync(join(PACKAGE_ROOT, 'test-artifacts'), { recursive: true });
    await screenshot(chromium as string, url, SCREENSHOT_PATH);
    console.log(
      `[integration] status page rendered in ${renderMs} ms (headless Chromium); screenshot: ${SCREENSHOT_PATH}`,
    );
  });
});
