import { describe, expect, it } from 'vitest';
import { DEMO_GUESTS, demoProfile } from '../../../src/cli/demo-guests.js';
import { connectKvd } from '../../../src/traffic/kvd.js';
import { connectRedis } from '../../../src/traffic/redis.js';

describe('demoProfile', () => {
  it('runs Redis from the shipped example by default, with the real Redis client', () => {
    expect(DEMO_GUESTS[0]).toBe('debian');
    const profile = demoProfile('debian');
    expect(profile.app).toBe('redis');
    expect(profile.connect).toBe(connectRedis);
    expect(profile.title).toContain('contrib/examples/redis.yaml');
  });

  it('keeps the built-in pair with kvd for fast runs, its state in the given folder', async () => {
    const profile = demoProfile('builtin');
    expect(profile.app).toBe('kvd');
    expect(profile.connect).toBe(connectKvd);
    const config = await profile.pairConfig('/tmp/demo-state');
    expect(config.stateDir).toBe('/tmp/demo-state');
    expect(config.apps.find((a) => a.name === 'kvd')?.hotStandby).toBe(true);
  });
});
