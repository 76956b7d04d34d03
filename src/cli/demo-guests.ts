// What the demo runs on each kind of guest: the pair's config, the app the faults and traffic aim at, its client.
import { loadExamplePair, REDIS_EXAMPLE_PATH } from '../config/example.js';
import { defaultPairConfig, type PairConfig } from '../pair/config.js';
import { PACKAGE_ROOT } from '../paths.js';
import { connectKvd } from '../traffic/kvd.js';
import { connectRedis } from '../traffic/redis.js';
import type { TrafficConnector } from '../traffic/store.js';

export const DEMO_GUESTS = ['debian', 'builtin'] as const;
export type DemoGuest = (typeof DEMO_GUESTS)[number];

export interface DemoProfile {
  guest: DemoGuest;
  /** One line for the start of the demo: the guests, the app, where the config comes from. */
  title: string;
  /** The app the client traffic goes to and the faults are aimed at. */
  app: string;
  /** The client that writes and reads `traffic-<n>`, and how the demo describes it. */
  connect: TrafficConnector;
  client: string;
  /** The pair to boot, its state in `stateDir`; rejects before anything starts when the image is missing. */
  pairConfig: (stateDir: string) => Promise<PairConfig>;
}

const PROFILES: Record<DemoGuest, DemoProfile> = {
  debian: {
    guest: 'debian',
    title: `Redis in Debian 12 guests (systemd), from ${REDIS_EXAMPLE_PATH.slice(PACKAGE_ROOT.length + 1)}`,
    app: 'redis',
    connect: connectRedis,
    client: 'a Redis client (ioredis)',
    pairConfig: (stateDir) => loadExamplePair(stateDir),
  },
  builtin: {
    guest: 'builtin',
    title: 'kvd (hot-standby) and cache (ordinary) in the built-in busybox guests',
    app: 'kvd',
    connect: connectKvd,
    client: "kvd's line protocol",
    pairConfig: async (stateDir) => defaultPairConfig(stateDir),
  },
};

export function demoProfile(guest: DemoGuest): DemoProfile {
  return PROFILES[guest];
}
