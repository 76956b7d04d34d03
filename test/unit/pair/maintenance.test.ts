import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../../src/log.js';
import { type HeldFault, MAINTENANCE_FILE, MaintenanceHold } from '../../../src/pair/maintenance.js';

const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-maintenance-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const log = createSilentLogger();
const fault = (patch: Partial<HeldFault> = {}): HeldFault => ({
  vm: 'vm-a',
  signal: 'GUEST_PANICKED',
  reason: 'GUEST_PANICKED on vm-a',
  detectedAtMs: 100,
  heldAt: '2026-01-01T00:00:00.000Z',
  ...patch,
});

describe('MaintenanceHold', () => {
  it('saves the switch before it returns, privately, and a new daemon loads it on', async () => {
    const stateDir = scratch();
    await new MaintenanceHold({ stateDir, log }).set(true, '2026-01-01T10:00:00.000Z');
    const path = join(stateDir, MAINTENANCE_FILE);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ on: true, since: '2026-01-01T10:00:00.000Z' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const restarted = new MaintenanceHold({ stateDir, log });
    await restarted.load();
    expect([restarted.isOn, restarted.since]).toEqual([true, '2026-01-01T10:00:00.000Z']);
    await restarted.set(false);
    const again = new MaintenanceHold({ stateDir, log });
    await again.load();
    expect([again.isOn, again.since]).toEqual([false, undefined]);
  });

  it('journals each switch and each held fault', async () => {
    const events: Array<[string, unknown]> = [];
    const hold = new MaintenanceHold({ log, onEvent: (type, fields) => events.push([type, fields]) });
    await hold.set(true);
    hold.hold(fault());
    expect(events).toEqual([
      ['maintenance', { on: true, held: 0 }],
      ['fault-held', fault()],
    ]);
  });

  it('keeps the first time it was switched on when switched on again', async () => {
    const hold = new MaintenanceHold({ stateDir: scratch(), log });
    await hold.set(true, '2026-01-01T10:00:00.000Z');
    await hold.set(true, '2026-01-01T11:00:00.000Z');
    expect(hold.since).toBe('2026-01-01T10:00:00.000Z');
  });

  it('counts a missing or unreadable file as off, and replaces a temp file a crash left', async () => {
    const stateDir = scratch();
    const hold = new MaintenanceHold({ stateDir, log });
    await hold.load();
    expect(hold.isOn).toBe(false);
    writeFileSync(join(stateDir, MAINTENANCE_FILE), '{"on": "yes"}');
    await hold.load();
    expect(hold.isOn).toBe(false);
    writeFileSync(join(stateDir, `${MAINTENANCE_FILE}.tmp`), 'half');
    await hold.set(true);
    expect(JSON.parse(readFileSync(join(stateDir, MAINTENANCE_FILE), 'utf8')).on).toBe(true);
  });

  it('holds one entry per VM and per app, and hands them all over once', () => {
    const hold = new MaintenanceHold({ log });
    hold.hold(fault());
    hold.hold(fault({ signal: 'qmp-disconnect', reason: 'qmp-disconnect on vm-a' }));
    hold.hold(fault({ signal: 'app-exit', app: 'kvd', action: 'move-app', reason: 'crash loop' }));
    hold.hold(fault({ signal: 'app-exit', app: 'kvd', action: 'move-app', reason: 'crash loop again' }));
    expect(hold.held.map((h) => h.reason)).toEqual(['GUEST_PANICKED on vm-a', 'crash loop']);
    expect(hold.take()).toHaveLength(2);
    expect(hold.take()).toEqual([]);
  });
});
