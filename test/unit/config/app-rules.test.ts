import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { fileWith, problemsWith } from './fixtures.js';

describe('config: apps the way operators run them', () => {
  it('reads argv at any absolute path with user, group, env, workdir and a data disk mapping', () => {
    const config = parseConfig(
      fileWith({
        'apps.0.argv': ['/usr/bin/redis-server', '/etc/baton/redis.conf'],
        'apps.0.user': 'redis',
        'apps.0.group': 'redis',
        'apps.0.env': { REDIS_PORT: '7000', EMPTY: '' },
        'apps.0.workdir': '/var/lib/redis',
        'apps.0.dataDisk': {
          size: '256MiB',
          mountPoint: '/var/lib/redis',
          owner: 'redis:redis',
          prepare: ['/bin/true'],
        },
        'apps.0.health': { kind: 'line', send: 'PING', expect: '+PONG' },
      }),
      'baton.yaml',
    );
    expect(config.apps[0]).toMatchObject({
      argv: ['/usr/bin/redis-server', '/etc/baton/redis.conf'],
      user: 'redis',
      group: 'redis',
      env: { REDIS_PORT: '7000', EMPTY: '' },
      workdir: '/var/lib/redis',
      dataDiskBytes: 256 * 1024 * 1024,
      dataDisk: { mountPoint: '/var/lib/redis', owner: 'redis:redis', prepare: ['/bin/true'] },
      health: { kind: 'line', send: 'PING', expect: '+PONG', intervalMs: 1000 },
    });
  });

  it('reads a unit app with an exec health check and a plain-size data disk', () => {
    const config = parseConfig(
      fileWith({
        'apps.0.argv': undefined,
        'apps.0.unit': 'postgresql@15-main.service',
        'apps.0.dataDisk': '64MiB',
        'apps.0.health': { kind: 'exec', argv: ['/usr/bin/pg_isready', '-q'] },
      }),
      'baton.yaml',
    );
    expect(config.apps[0]?.unit).toBe('postgresql@15-main.service');
    expect(config.apps[0]).not.toHaveProperty('argv');
    expect(config.apps[0]).not.toHaveProperty('dataDisk');
    expect(config.apps[0]?.dataDiskBytes).toBe(64 * 1024 * 1024);
  });

  it.each([
    [{ 'apps.0.argv': undefined }, 'apps[0]: expected exactly one of argv and unit, got neither'],
    [{ 'apps.0.unit': 'redis-server.service' }, 'apps[0]: expected exactly one of argv and unit, got both'],
    [
      { 'apps.0.argv': undefined, 'apps.0.unit': 'redis-server.service', 'apps.0.user': 'redis' },
      'apps[0].user: expected no user for a unit app (its unit file sets it), got "redis"',
    ],
    [
      { 'apps.0.health': { kind: 'tcp', send: 'PING' } },
      'apps[0].health.send: expected no send for health kind tcp (send belongs to kind line)',
    ],
    [
      { 'apps.0.health': { kind: 'http', argv: ['/bin/true'] } },
      'apps[0].health.argv: expected no argv for health kind http (argv belongs to kind exec)',
    ],
    [
      { 'apps.0.health': { kind: 'exec' } },
      'apps[0].health.argv: expected the command to run for health kind exec, got none',
    ],
  ])('refuses %o', (edits, message) => {
    expect(problemsWith(edits)).toEqual([`baton.yaml: ${message}`]);
  });

  it("refuses an app whose app.start would not fit in the agent's line, and accepts one that does", () => {
    const env = (count: number) =>
      Object.fromEntries(Array.from({ length: count }, (_, i) => [`K${i}`, 'v'.repeat(400)]));
    expect(problemsWith({ 'apps.0.env': env(20) })).toEqual([
      expect.stringMatching(
        /^baton\.yaml: apps\[0\]: expected an app\.start request within the agent's 4096-byte line .*, got about \d+ bytes$/,
      ),
    ]);
    expect(problemsWith({ 'apps.0.env': env(5) })).toEqual([]);
  });

  it.each([
    [
      { 'apps.0.unit': 'redis' },
      "apps[0].unit: expected a systemd service name like redis-server.service or postgresql@15-main.service, got 'redis'",
    ],
    [
      { 'apps.0.user': 'a:b' },
      "apps[0].user: expected a user or group name: 1-32 of A-Z a-z 0-9 _ . -, got 'a:b'",
    ],
    [{ 'apps.0.env': { 'A-B': 'x' } }, 'apps[0].env'],
    [
      { 'apps.0.workdir': '/var/../etc' },
      "apps[0].workdir: expected an absolute path in the guest without '..' (at most 256 bytes), got '/var/../etc'",
    ],
    [{ 'apps.0.health': { kind: 'udp' } }, 'apps[0].health.kind'],
    [{ 'apps.0.dataDisk': { size: '64MiB', owner: 'a:b:c' } }, 'apps[0].dataDisk'],
    [{ 'apps.0.dataDisk': { size: '64MiB', mountPoint: '/' } }, 'apps[0].dataDisk'],
  ])('refuses the field %o', (edits, start) => {
    const problems = problemsWith(edits);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.startsWith(`baton.yaml: ${start}`)).toBe(true);
  });
});
