import { describe, expect, it } from 'vitest';
import { problemsWith } from './fixtures.js';

const web = { name: 'web', argv: ['/apps/web'], memory: '64MiB', port: 8080 };

describe('config rules: memory', () => {
  it('refuses a budget below both bases, the monitor and every app, with the numbers', () => {
    expect(problemsWith({ budget: '350MiB' })).toEqual([
      "baton.yaml: budget: expected at least 352 MiB (2 × vms.baseMemory 96 MiB + monitor 32 MiB + the apps' memory 128 MiB), got 350 MiB",
    ]);
  });

  it('accepts a budget of exactly both bases, the monitor and every app', () => {
    expect(problemsWith({ budget: '352MiB' })).toEqual([]);
  });

  it('counts every app in the budget', () => {
    expect(problemsWith({ budget: '400MiB', 'apps.1': web })).toEqual([
      "baton.yaml: budget: expected at least 416 MiB (2 × vms.baseMemory 96 MiB + monitor 32 MiB + the apps' memory 192 MiB), got 400 MiB",
    ]);
  });

  it('refuses app memory above its slotMax', () => {
    expect(problemsWith({ 'apps.0.slotMax': '64MiB' })).toEqual([
      'baton.yaml: apps[0].memory: expected at most apps[0].slotMax (64 MiB), got 128 MiB',
    ]);
  });

  it.each(['3MiB', '1MiB', '6MiB'])('refuses a block size of %s', (blockSize) => {
    expect(problemsWith({ blockSize })).toEqual([
      `baton.yaml: blockSize: expected a power of two of at least 2 MiB, got ${blockSize.replace('MiB', ' MiB')}`,
    ]);
  });

  it('refuses every memory size that is not a whole number of blocks', () => {
    expect(
      problemsWith({
        blockSize: '4MiB',
        budget: '738MiB',
        monitor: '34MiB',
        'vms.baseMemory': '98MiB',
        'vms.maxMemory': '2050MiB',
        'apps.0.memory': '130MiB',
        'apps.0.slotMax': '514MiB',
      }),
    ).toEqual([
      'baton.yaml: budget: expected a multiple of the 4 MiB block size, got 738 MiB',
      'baton.yaml: monitor: expected a multiple of the 4 MiB block size, got 34 MiB',
      'baton.yaml: vms.baseMemory: expected a multiple of the 4 MiB block size, got 98 MiB',
      'baton.yaml: vms.maxMemory: expected a multiple of the 4 MiB block size, got 2050 MiB',
      'baton.yaml: apps[0].memory: expected a multiple of the 4 MiB block size, got 130 MiB',
      'baton.yaml: apps[0].slotMax: expected a multiple of the 4 MiB block size, got 514 MiB',
    ]);
  });

  it('refuses a maxMemory below base memory plus every slotMax', () => {
    expect(problemsWith({ 'vms.maxMemory': '512MiB', 'apps.0.slotMax': '512MiB' })).toEqual([
      "baton.yaml: vms.maxMemory: expected at least 608 MiB (vms.baseMemory 96 MiB + the apps' slotMax 512 MiB), got 512 MiB",
    ]);
  });

  it.each([
    ['2047KiB', '2.0 MiB'],
    ['2GiB', '2 GiB'],
  ])('refuses a TCG translation cache of %s', (tcgCache, shown) => {
    expect(problemsWith({ 'vms.tcgCache': tcgCache })).toEqual([
      `baton.yaml: vms.tcgCache: expected a whole number of MiB from 1 MiB to 1 GiB, got ${shown}`,
    ]);
  });

  it('accepts a TCG translation cache of 64MiB', () => {
    expect(problemsWith({ 'vms.tcgCache': '64MiB' })).toEqual([]);
  });

  it.each([
    ['8MiB', '8 MiB'],
    [16 * 1048576 + 512, '16.0 MiB'],
  ])('refuses a data disk of %s', (dataDisk, shown) => {
    expect(problemsWith({ 'apps.0.dataDisk': dataDisk })).toEqual([
      `baton.yaml: apps[0].dataDisk: expected a whole number of MiB, at least 16 MiB, got ${shown}`,
    ]);
  });
});

describe('config rules: names and ports', () => {
  it('refuses two apps with one name', () => {
    expect(problemsWith({ 'apps.1': { ...web, name: 'kvd' } })).toEqual([
      "baton.yaml: apps[1].name: expected a name no other app has (apps[0].name has it), got 'kvd'",
    ]);
  });

  it('refuses two VMs with one name', () => {
    expect(problemsWith({ 'vms.names': ['vm-a', 'vm-a'] })).toEqual([
      "baton.yaml: vms.names[1]: expected a name the other VM does not have (vms.names[0] has it), got 'vm-a'",
    ]);
  });

  it('refuses two apps with data disks whose names start alike (the disk serial is cut to 20 characters)', () => {
    const long = (suffix: string) => ({ ...web, name: `inventory-cache${suffix}`, dataDisk: '16MiB' });
    expect(problemsWith({ 'apps.0': long('-a'), 'apps.1': { ...long('-b'), port: 8081 } })).toEqual([
      "baton.yaml: apps[1].name: expected a name whose first 14 characters no other app with a data disk has (they name its disk) (apps[0].name has it), got 'inventory-cache-b'",
    ]);
  });

  it('lets names start alike when only one app has a data disk', () => {
    expect(
      problemsWith({
        'apps.0': { ...web, name: 'inventory-cache-a', dataDisk: '16MiB' },
        'apps.1': { ...web, name: 'inventory-cache-b', port: 8081 },
      }),
    ).toEqual([]);
  });

  it('refuses two apps on one guest port', () => {
    expect(problemsWith({ 'apps.1': { ...web, port: 7000 } })).toEqual([
      'baton.yaml: apps[1].port: expected a guest port no other app uses (apps[0].port has it), got 7000',
    ]);
  });

  it('refuses two endpoints on one host port, and an endpoint on the metrics port', () => {
    expect(
      problemsWith({
        'apps.0.endpoint': 9100,
        'apps.1': { ...web, endpoint: 9100 },
        'metrics.listen': '127.0.0.1:9100',
      }),
    ).toEqual([
      'baton.yaml: apps[0].endpoint: expected a host port nothing else in this config uses (metrics.listen has it), got 9100',
      'baton.yaml: apps[1].endpoint: expected a host port nothing else in this config uses (metrics.listen has it), got 9100',
    ]);
  });

  it('lets every endpoint pick any free port', () => {
    expect(problemsWith({ 'apps.0.endpoint': 0, 'apps.1': { ...web, endpoint: 0 } })).toEqual([]);
  });

  it('refuses a state directory too long for the VMs’ unix sockets', () => {
    const stateDir = `/${'d'.repeat(80)}`;
    expect(problemsWith({ stateDir })).toEqual([
      `baton.yaml: stateDir: expected a path of at most 80 bytes (the VMs' unix sockets, like <stateDir>/run/vm-a-XXXXXX/agent.sock, must fit in 107 bytes), got '${stateDir.slice(0, 60)}...' (81 bytes)`,
    ]);
  });
});

describe('config rules: timeouts', () => {
  it('refuses a heartbeat silence shorter than two heartbeats', () => {
    expect(problemsWith({ heartbeatMs: 1000, 'detection.heartbeatSilenceMs': 1999 })).toEqual([
      'baton.yaml: detection.heartbeatSilenceMs: expected at least 2 × heartbeatMs = 2000 (one late heartbeat is not a hang), got 1999',
    ]);
  });

  it('accepts a heartbeat silence of exactly two heartbeats', () => {
    expect(
      problemsWith({
        heartbeatMs: 1000,
        'detection.heartbeatSilenceMs': 2000,
        'detection.syncTimeoutMs': 500,
      }),
    ).toEqual([]);
  });

  it('refuses a sync timeout that is not shorter than the heartbeat silence', () => {
    expect(problemsWith({ 'detection.syncTimeoutMs': 3000 })).toEqual([
      'baton.yaml: detection.syncTimeoutMs: expected less than detection.heartbeatSilenceMs (3000), got 3000',
    ]);
  });

  it('refuses a health check timeout longer than its interval', () => {
    expect(problemsWith({ 'apps.0.health.timeoutMs': 1001 })).toEqual([
      'baton.yaml: apps[0].health.timeoutMs: expected at most apps[0].health.intervalMs (1000), got 1001',
    ]);
  });

  it('refuses a start deadline too short for one health check and a retry', () => {
    expect(problemsWith({ 'detection.healthTimeoutMs': 1500 })).toEqual([
      'baton.yaml: detection.healthTimeoutMs: expected more than apps[0].health.intervalMs + apps[0].health.timeoutMs (1500), got 1500',
    ]);
  });

  it('refuses a restart window too short to ever count repeated hangs', () => {
    expect(problemsWith({ 'apps.0.restart.windowMs': 11_999 })).toEqual([
      'baton.yaml: apps[0].restart.windowMs: expected at least (apps[0].restart.max + 1) × apps[0].health.intervalMs × apps[0].health.failuresToUnhealthy = 12000 (else an app that keeps hanging is never moved), got 11999',
    ]);
  });

  it('does not check the restart window of an app never restarted in place', () => {
    expect(problemsWith({ 'apps.0.restart.windowMs': 1000, 'apps.0.restart.max': 0 })).toEqual([]);
  });

  it('reports every broken rule at once', () => {
    expect(
      problemsWith({ budget: '100MiB', 'detection.syncTimeoutMs': 5000, 'apps.1': { ...web, name: 'kvd' } }),
    ).toHaveLength(3);
  });
});
