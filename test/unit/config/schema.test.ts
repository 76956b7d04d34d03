import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { MiB } from '../../../src/units.js';
import { configWith, fileWith, minimalFile, problemsOf, problemsWith } from './fixtures.js';

describe('config schema: sizes', () => {
  it.each([
    ['12XB', "expected a size like 128MiB, got '12XB'"],
    ['-1MiB', "expected a size like 128MiB, got '-1MiB'"],
    ['1e30', "expected a size like 128MiB, got '1e30'"],
    ['1.5GiB', "expected a size like 128MiB, got '1.5GiB'"],
    ['', 'expected a size like 128MiB, got an empty string'],
    [-5, 'expected a size like 128MiB, got -5'],
    [1.5, 'expected a size like 128MiB, got 1.5'],
    [true, 'expected a size like 128MiB, got true'],
    [null, 'expected a size like 128MiB, got null'],
    ['0MiB', "expected a size above zero, got '0MiB'"],
    ['99999GiB', "expected a size of at most 16384GiB, got '99999GiB'"],
    ['99999999999999GiB', "expected a size like 128MiB, got '99999999999999GiB'"],
  ])('refuses %o in one line', (value, message) => {
    expect(problemsWith({ 'apps.0.memory': value })).toEqual([`baton.yaml: apps[0].memory: ${message}`]);
  });

  it('shows a number as written in the file: 1e30, not 1e+30', () => {
    const text = fileWith({}).replace('budget: 736MiB', 'budget: 1e30');
    expect(problemsOf(text)).toEqual(['baton.yaml: budget: expected a size like 736MiB, got 1e30']);
  });

  it('refuses an infinite size as written', () => {
    const text = fileWith({}).replace('budget: 736MiB', 'budget: .inf');
    expect(problemsOf(text)).toEqual(['baton.yaml: budget: expected a size like 736MiB, got .inf']);
  });

  it.each([
    ['128MiB', 128 * MiB],
    ['128 MiB', 128 * MiB],
    ['128m', 128 * MiB],
    [134217728, 128 * MiB],
    ['131072KiB', 128 * MiB],
  ])('reads %o as 128 MiB', (value, bytes) => {
    expect(configWith({ 'apps.0.memory': value }).apps[0]?.memoryBytes).toBe(bytes);
  });
});

describe('config schema: defaults', () => {
  it('fills every default from a budget and one app', () => {
    const config = parseConfig(fileWith({}), 'baton.yaml');
    expect(config).toStrictEqual({
      budgetBytes: 736 * MiB,
      blockBytes: 2 * MiB,
      monitorBytes: 32 * MiB,
      mechanism: 'virtio-mem',
      stateDir: '/var/lib/baton',
      accel: 'auto',
      vms: {
        names: ['vm-a', 'vm-b'],
        baseMemoryBytes: 96 * MiB,
        maxMemoryBytes: 224 * MiB,
        cpus: 1,
        image: { kind: 'builtin' },
        tcgCacheBytes: 16 * MiB,
      },
      heartbeatMs: 500,
      detection: {
        heartbeatSilenceMs: 3000,
        syncTimeoutMs: 1000,
        qmpTimeoutMs: 2000,
        helloTimeoutMs: 60000,
        healthTimeoutMs: 20000,
      },
      isFaultInjectionAllowed: false,
      apps: [
        {
          name: 'kvd',
          slot: 'slot0',
          argv: ['/apps/kvd', '--port', '7000'],
          memoryBytes: 128 * MiB,
          slotMaxBytes: 128 * MiB,
          hotStandby: true,
          guestPort: 7000,
          endpointPort: 0,
          health: { intervalMs: 1000, timeoutMs: 500, failuresToUnhealthy: 3 },
          restart: { max: 3, windowMs: 60000 },
        },
      ],
      metrics: {},
    });
  });

  it('derives maxMemory from base memory and every slotMax', () => {
    const config = configWith({
      'apps.0.slotMax': '256MiB',
      'apps.1': { name: 'web', argv: ['/apps/web'], memory: '64MiB', port: 80 },
    });
    expect(config.vms.maxMemoryBytes).toBe((96 + 256 + 64) * MiB);
  });

  it('assigns slots in file order', () => {
    const config = configWith({ 'apps.1': { name: 'web', argv: ['/apps/web'], memory: '64MiB', port: 80 } });
    expect(config.apps.map((app) => app.slot)).toEqual(['slot0', 'slot1']);
  });

  it('reads an empty section (`metrics:` with nothing under it) as every default', () => {
    const text = `${fileWith({})}vms:\ndetection:\nmetrics:\n`;
    expect(parseConfig(text, 'baton.yaml')).toStrictEqual(parseConfig(fileWith({}), 'baton.yaml'));
  });

  it('returns a frozen config', () => {
    const config = configWith({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.apps[0]?.argv)).toBe(true);
  });
});

describe('config schema: unknown keys', () => {
  it.each([
    ['bugdet', 'bugdet', "did you mean 'budget'?"],
    ['vms.cpu', 'vms.cpu', "did you mean 'cpus'?"],
    ['detection.heartbeatSilence', 'detection.heartbeatSilence', "did you mean 'heartbeatSilenceMs'?"],
    ['apps.0.hotstandby', 'apps[0].hotstandby', "did you mean 'hotStandby'?"],
    ['apps.0.health.interval', 'apps[0].health.interval', "did you mean 'intervalMs'?"],
    [
      'apps.0.health.port',
      'apps[0].health.port',
      'known keys: kind, send, expect, path, argv, intervalMs, timeoutMs, failuresToUnhealthy',
    ],
    ['apps.0.restart.maximum', 'apps[0].restart.maximum', 'known keys: max, windowMs'],
    ['metrics.port', 'metrics.port', 'known keys: listen'],
  ])('names %s', (edit, path, hint) => {
    expect(problemsWith({ [edit]: 1 })).toEqual([`baton.yaml: ${path}: unknown key (${hint})`]);
  });

  it('lists the known keys when nothing is close', () => {
    expect(problemsWith({ zzz: 1 })).toEqual([
      'baton.yaml: zzz: unknown key (known keys: budget, blockSize, monitor, mechanism, stateDir, accel, vms, heartbeatMs, detection, faultInjection, apps, metrics)',
    ]);
  });

  it('escapes control characters in a key', () => {
    const text = `${fileWith({})}"bad\\nkey\\u001b[31m": 1\n`;
    expect(problemsOf(text)).toEqual([
      "baton.yaml: ['bad\\nkey\\u001b[31m']: unknown key (known keys: budget, blockSize, monitor, mechanism, stateDir, accel, vms, heartbeatMs, detection, faultInjection, apps, metrics)",
    ]);
  });

  it('names every unknown key and every bad value together', () => {
    expect(problemsWith({ a: 1, b: 2, 'apps.0.memory': '12XB' })).toEqual([
      "baton.yaml: apps[0].memory: expected a size like 128MiB, got '12XB'",
      'baton.yaml: a: unknown key (known keys: budget, blockSize, monitor, mechanism, stateDir, accel, vms, heartbeatMs, detection, faultInjection, apps, metrics)',
      'baton.yaml: b: unknown key (known keys: budget, blockSize, monitor, mechanism, stateDir, accel, vms, heartbeatMs, detection, faultInjection, apps, metrics)',
    ]);
  });
});

describe('config schema: other fields', () => {
  it.each([
    [{ budget: undefined }, 'budget: expected a size like 736MiB, got nothing'],
    [{ apps: undefined }, 'apps: expected a list of 1 to 8 apps, got nothing'],
    [{ apps: [] }, 'apps: expected a list of 1 to 8 apps, got an empty list'],
    [
      { mechanism: 'balloon' },
      "mechanism: expected virtio-mem ('balloon' is not implemented yet), got 'balloon'",
    ],
    [{ mechanism: 'dimm' }, "mechanism: expected virtio-mem ('dimm' is not implemented yet), got 'dimm'"],
    [{ mechanism: 'magic' }, "mechanism: expected virtio-mem, got 'magic'"],
    [{ accel: 'xen' }, "accel: expected one of auto, kvm, tcg, got 'xen'"],
    [{ faultInjection: 'yes' }, "faultInjection: expected true or false, got 'yes'"],
    [{ stateDir: 'var/lib/baton' }, "stateDir: expected an absolute path without '..', got 'var/lib/baton'"],
    [{ stateDir: '/var/../etc' }, "stateDir: expected an absolute path without '..', got '/var/../etc'"],
    [{ heartbeatMs: 10 }, 'heartbeatMs: expected a whole number of milliseconds from 50 to 60000, got 10'],
    [
      { heartbeatMs: '500ms' },
      "heartbeatMs: expected a whole number of milliseconds from 50 to 60000, got '500ms'",
    ],
    [{ 'vms.cpus': 0 }, 'vms.cpus: expected a whole number from 1 to 64, got 0'],
    [{ 'vms.names': ['vm-a'] }, 'vms.names: expected a list of 2 VM names, got a list of 1'],
    [{ 'vms.names': 'vm-a' }, "vms.names: expected a list of 2 VM names, got 'vm-a'"],
    [
      { 'vms.names': ['vm-a', 'VM_B'] },
      "vms.names[1]: expected a VM name: 1-32 lowercase letters, digits and '-', starting with a letter, got 'VM_B'",
    ],
    [{ vms: 3 }, 'vms: expected a mapping with names, baseMemory, maxMemory, cpus, image, tcgCache, got 3'],
    [
      { 'apps.0.name': 'Kvd' },
      "apps[0].name: expected an app name: 1-32 lowercase letters, digits and '-', got 'Kvd'",
    ],
    [{ 'apps.0.port': '7000' }, "apps[0].port: expected a port number from 1 to 65535, got '7000'"],
    [{ 'apps.0.port': 70000 }, 'apps[0].port: expected a port number from 1 to 65535, got 70000'],
    [
      { 'apps.0.endpoint': -1 },
      'apps[0].endpoint: expected a port number from 1 to 65535, or 0 for any free port, got -1',
    ],
    [{ 'apps.0.hotStandby': 'no' }, "apps[0].hotStandby: expected true or false, got 'no'"],
    [
      { 'apps.0.health.failuresToUnhealthy': 0 },
      'apps[0].health.failuresToUnhealthy: expected a whole number from 1 to 100, got 0',
    ],
    [
      { 'apps.0.restart.windowMs': 10 },
      'apps[0].restart.windowMs: expected a whole number of milliseconds from 1000 to 86400000, got 10',
    ],
    [
      { 'metrics.listen': '0.0.0.0:9100' },
      "metrics.listen: expected a loopback address and port like 127.0.0.1:9100, got '0.0.0.0:9100'",
    ],
    [
      { 'metrics.listen': '127.0.0.300:9100' },
      "metrics.listen: expected a loopback address and port like 127.0.0.1:9100, got '127.0.0.300:9100'",
    ],
    [
      { 'metrics.listen': '127.0.0.1:99999' },
      "metrics.listen: expected a loopback address and port like 127.0.0.1:9100, got '127.0.0.1:99999'",
    ],
  ])('refuses %o', (edits, message) => {
    expect(problemsWith(edits)).toEqual([`baton.yaml: ${message}`]);
  });

  it.each([
    [
      ['kvd'],
      "apps[0].argv[0]: expected an absolute path in the guest without '..' (at most 256 bytes), got 'kvd'",
    ],
    [
      ['/'],
      "apps[0].argv[0]: expected an absolute path in the guest without '..' (at most 256 bytes), got '/'",
    ],
    [
      ['/usr/bin/a\tb'],
      "apps[0].argv[0]: expected an absolute path in the guest without '..' (at most 256 bytes), got '/usr/bin/a\\tb'",
    ],
    [
      ['/apps/../bin/sh'],
      "apps[0].argv[0]: expected an absolute path in the guest without '..' (at most 256 bytes), got '/apps/../bin/sh'",
    ],
    [['/apps/kvd', '--port', 7000], "apps[0].argv[2]: expected a string (quote it: '7000'), got 7000"],
    [
      ['/apps/kvd', 'x'.repeat(257)],
      `apps[0].argv[1]: expected a string of at most 256 bytes, got '${'x'.repeat(60)}...'`,
    ],
    [
      [],
      "apps[0].argv[0]: expected an absolute path in the guest without '..' (at most 256 bytes), got nothing",
    ],
    [
      Array.from({ length: 33 }, () => '/apps/kvd'),
      'apps[0].argv: expected a list of 1 to 32 arguments, the first an absolute path in the guest, got a list of 33',
    ],
    [
      '/apps/kvd',
      "apps[0].argv: expected a list of 1 to 32 arguments, the first an absolute path in the guest, got '/apps/kvd'",
    ],
  ])('refuses argv %o', (argv, message) => {
    expect(problemsWith({ 'apps.0.argv': argv })).toEqual([`baton.yaml: ${message}`]);
  });

  it('refuses more than 8 apps', () => {
    const apps = Array.from({ length: 9 }, (_, index) => ({
      name: `app${index}`,
      argv: ['/apps/x'],
      memory: '2MiB',
      port: 1000 + index,
    }));
    expect(problemsWith({ apps })).toEqual([
      'baton.yaml: apps: expected a list of 1 to 8 apps, got a list of 9',
    ]);
  });

  it.each([
    ['127.0.0.1:9100', { host: '127.0.0.1', port: 9100 }],
    ['[::1]:9100', { host: '::1', port: 9100 }],
    ['localhost:9200', { host: 'localhost', port: 9200 }],
  ])('listens for metrics on %s', (listen, address) => {
    expect(configWith({ 'metrics.listen': listen }).metrics.listen).toEqual(address);
  });

  it('keeps the minimal file valid', () => {
    expect(minimalFile()).toHaveProperty('budget');
    expect(problemsWith({})).toEqual([]);
  });
});
