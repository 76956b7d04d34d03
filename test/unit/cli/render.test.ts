import { describe, expect, it } from 'vitest';
import {
  renderMaintenance,
  renderResourceTable,
  renderStatus,
  renderTimeline,
} from '../../../src/cli/render.js';
import { MiB } from '../../../src/units.js';
import { demoOverview, WHOLE_VM_FAILOVER } from '../daemon/page/fixtures.js';

describe('the resource table for people', () => {
  it('draws every area with sizes in MiB, plugged only for apps, and the sum against the budget', () => {
    const text = renderResourceTable(demoOverview().table);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^area\s+kind\s+size\s+user\s+on failure\s+plugged \(QEMU\)$/);
    expect(lines.find((l) => l.startsWith('app:kvd'))).toMatch(
      /app:kvd\s+app\s+128 MiB\s+vm-b\s+vm-a\s+128 MiB$/,
    );
    expect(lines.find((l) => l.startsWith('pool'))).toMatch(/352 MiB\s+monitor\s+monitor\s+-$/);
    expect(lines.at(-1)).toBe('epoch 9, sum 736 MiB of a 736 MiB budget');
  });
});

describe('a failover timeline', () => {
  it('heads with the short id, kind, trigger, VMs, result and total, then one bar per phase', () => {
    const lines = renderTimeline(WHOLE_VM_FAILOVER, 8).split('\n');
    expect(lines[0]).toBe('failover 6f1c2a9e (whole-vm, request on vm-a): vm-a → vm-b, succeeded in 1.0 s');
    expect(lines.slice(1)).toEqual([
      '  detect      0 ms  ',
      '  fence     100 ms  ##',
      '  plug      300 ms  ######',
      '  start     400 ms  ########',
      '  commit    200 ms  ####',
    ]);
  });

  it('gives a phase too short to round to a character one, and survives a record with no phases', () => {
    const tiny = {
      ...WHOLE_VM_FAILOVER,
      phases: [
        { name: 'a', ms: 1 },
        { name: 'b', ms: 10_000 },
      ],
    };
    expect(renderTimeline(tiny, 10).split('\n')[1]).toBe('  a      1 ms  #');
    expect(renderTimeline({ ...WHOLE_VM_FAILOVER, phases: [] }).split('\n')).toHaveLength(1);
  });
});

describe('baton status for people', () => {
  it('shows the pair, a table of VMs and one of apps with reasons and endpoints', () => {
    const text = renderStatus(demoOverview().status);
    const lines = text.split('\n');
    expect(lines[0]).toBe('pair: protected, table epoch 9');
    expect(lines.find((l) => l.startsWith('vm-b'))).toMatch(
      /vm-b\s+active\s+running\s+tcg\s+4242\s+999\s+96 MiB\s+160 MiB\s+230 ms$/,
    );
    expect(lines.find((l) => l.startsWith('vm-a'))).toMatch(/96 MiB\s+0 MiB\s+2\.1 s$/);
    expect(lines.find((l) => l.startsWith('cache'))).toMatch(
      /cache\s+-\s+waiting: pool has 16 MiB, needs 32 MiB\s+2\s+127\.0\.0\.1:41001$/,
    );
    expect(text).not.toContain('queued faults');
    expect(text).not.toContain('maintenance');
  });

  it('says why a blocked pair is blocked, lists queued faults and start errors, and dashes unknowns', () => {
    const status = demoOverview().status;
    const [vm] = status.vms;
    const [app] = status.apps;
    if (vm === undefined || app === undefined) throw new Error('fixture changed');
    const text = renderStatus({
      ...status,
      state: 'blocked',
      blocked: true,
      blockedReason: 'undo of plug failed',
      queued: ['qemu-exit on vm-a (pid 7): kept while the pair is blocked'],
      vms: [{ ...vm, pid: null, uid: null, heartbeatAgeMs: null, pluggedBytes: 3 * MiB + 512 }],
      apps: [
        {
          ...app,
          state: 'start-failed',
          startError: { vm: 'vm-b', code: 'ENOENT', message: 'no /apps/kvd' },
        },
      ],
    });
    expect(text.split('\n')[0]).toBe('pair: blocked (undo of plug failed), table epoch 9');
    expect(text).toMatch(/vm-b\s+active\s+running\s+tcg\s+-\s+-\s+96 MiB\s+3\.0 MiB\s+-\n/);
    expect(text).toContain('kvd did not start on vm-b: ENOENT: no /apps/kvd');
    expect(text.endsWith('queued faults:\n  qemu-exit on vm-a (pid 7): kept while the pair is blocked')).toBe(
      true,
    );
    const unnamed = renderStatus({ ...status, blocked: true, blockedReason: null });
    expect(unnamed.split('\n')[0]).toBe('pair: protected (blocked), table epoch 9');
  });
});

describe('the maintenance lines', () => {
  it('are absent when off with nothing held, or with no maintenance field from an older daemon', () => {
    expect(renderMaintenance({ on: false, since: null, heldFaults: [] })).toEqual([]);
    expect(renderMaintenance(undefined)).toEqual([]);
  });

  it('show since when, and each held fault with its app when it has one', () => {
    expect(
      renderMaintenance({
        on: true,
        since: '2026-12-06T05:00:00.000Z',
        heldFaults: [
          { vm: 'vm-a', app: null, signal: 'hang', reason: 'hang of vm-a', heldAt: 'T1' },
          { vm: 'vm-a', app: 'kvd', signal: 'severe', reason: 'move asked', heldAt: 'T2' },
        ],
      }),
    ).toEqual([
      'maintenance: on since 2026-12-06T05:00:00.000Z (automatic failovers held)',
      '  held since T1: hang of vm-a',
      '  held since T2: move asked (kvd)',
    ]);
    expect(
      renderMaintenance({
        on: false,
        since: null,
        heldFaults: [{ vm: 'a', app: null, signal: 's', reason: 'r', heldAt: 'T' }],
      })[0],
    ).toBe('maintenance: off');
    expect(renderMaintenance({ on: true, since: null, heldFaults: [] })[0]).toContain('on since ?');
  });
});
