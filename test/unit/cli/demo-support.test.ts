import { describe, expect, it } from 'vitest';
import { printGuests, routeAppsLeftHeld, summary, waitFor } from '../../../src/cli/demo-support.js';
import type { Pair } from '../../../src/pair/pair.js';
import { MiB } from '../../../src/units.js';
import { finishedRecord } from '../daemon/view-pair.js';

/** A pair after a whole-VM failover onto vm-b: kvd's area is on vm-b, cron's on vm-a; every endpoint held. */
function heldPair() {
  const routes: string[] = [];
  const endpoint = (name: string, target?: { vm: string }) => ({
    currentTarget: target,
    route: (to: { host: string; port: number; vm: string }) =>
      routes.push(`${name} → ${to.host}:${to.port} (${to.vm})`),
  });
  const pair = {
    activeVm: {
      machine: { spec: { name: 'vm-b' } },
      forwards: new Map([
        ['kvd', 41000],
        ['cron', 41001],
        ['web', 41002],
      ]),
    },
    config: { apps: [{ name: 'kvd' }, { name: 'cron' }, { name: 'web' }, { name: 'ghost' }] },
    endpoints: new Map([
      ['kvd', endpoint('kvd')],
      ['cron', endpoint('cron')],
      ['web', endpoint('web', { vm: 'vm-b' })],
    ]),
    table: {
      areas: [
        { name: 'app:kvd', user: 'vm-b' },
        { name: 'app:cron', user: 'vm-a' },
        { name: 'app:web', user: 'vm-b' },
      ],
    },
  };
  return { pair: pair as unknown as Pair, raw: pair, routes };
}

describe('routing endpoints a whole-VM failover left held', () => {
  it('routes only a held app whose area is on the new active, and says so', () => {
    const { pair, routes } = heldPair();
    const said: string[] = [];
    routeAppsLeftHeld(pair, (line) => said.push(line));
    expect(routes).toEqual(['kvd → 127.0.0.1:41000 (vm-b)']);
    expect(said).toEqual(['kvd kept running on vm-b: its endpoint routes there again']);
  });

  it('does nothing without an active VM', () => {
    const { raw, routes } = heldPair();
    routeAppsLeftHeld({ ...raw, activeVm: undefined } as unknown as Pair, () =>
      expect.fail('nothing to say'),
    );
    expect(routes).toEqual([]);
  });
});

describe('the demo’s history line', () => {
  it('names the app, or the whole VM, and the result with its duration', () => {
    expect(summary(finishedRecord())).toBe(
      '  whole-vm GUEST_PANICKED: whole VM vm-a → vm-b, succeeded in 812 ms',
    );
    expect(summary(finishedRecord({ kind: 'app', app: 'kvd', result: 'failed', totalMs: 1500 }))).toBe(
      '  app      GUEST_PANICKED: kvd vm-a → vm-b, failed in 1.5 s',
    );
  });
});

describe('the guests’ table', () => {
  it('shows each VM as QMP, /proc and its agent see it, skipping a missing standby', async () => {
    const vm = {
      bootMs: 1234,
      hello: { agentVersion: '0.1.0', bootId: '0123456789abcdef' },
      machine: {
        spec: { name: 'vm-a' },
        pid: process.pid,
        qmp: {
          execute: async (command: string) => {
            expect(command).toBe('query-memory-size-summary');
            return { 'base-memory': 256 * MiB, 'plugged-memory': 128 * MiB };
          },
        },
        agent: {
          memStatus: async () => ({
            memTotalBytes: 300 * MiB,
            numaNodes: [
              { id: 0, memTotalBytes: 172 * MiB },
              { id: 1, memTotalBytes: 128 * MiB },
            ],
          }),
        },
      },
    };
    const printed: string[] = [];
    await printGuests({ activeVm: vm, standbyVm: undefined } as unknown as Pair, (line) =>
      printed.push(line),
    );
    expect(printed[0]).toBe('each VM as the host (QMP, /proc) and its guest agent see it:');
    const rows = printed[1]?.split('\n') ?? [];
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatch(
      /^vm-a\s+active\s+1\.2 s\s+256 MiB\s+128 MiB\s+\S+ \S+\s+300 MiB\s+0:172 MiB 1:128 MiB\s+0\.1\.0 01234567$/,
    );
    expect(printed[2]).toBe('');
  });
});

describe('waiting with progress', () => {
  it('returns the first value the probe gives, acting after each empty poll', async () => {
    let polls = 0;
    const acts: number[] = [];
    const value = await waitFor(
      () => (++polls >= 3 ? `after ${polls}` : undefined),
      5000,
      'kvd',
      () => undefined,
      async () => void acts.push(polls),
    );
    expect(value).toBe('after 3');
    expect(acts).toEqual([1, 2]);
  });

  it('accepts a falsy value as found', async () => {
    await expect(
      waitFor(
        () => 0,
        100,
        'zero',
        () => undefined,
      ),
    ).resolves.toBe(0);
  });

  it('times out naming what it waited for', async () => {
    await expect(
      waitFor(
        () => undefined,
        150,
        'the standby',
        () => undefined,
      ),
    ).rejects.toThrow('Timed out after 150 ms waiting for the standby');
  });
});
