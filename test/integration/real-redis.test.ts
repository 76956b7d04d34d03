// Real Redis (contrib/examples/redis.yaml) in the Debian pair: a guest panic, a SIGKILL of the active QEMU and a crash loop under ioredis writes, nothing acknowledged lost.
import { describe, it } from 'vitest';
import { pingOnce } from '../../src/pair/health.js';
import { connectRedis } from '../../src/traffic/redis.js';
import { isDebianImageThere, realGuestDaemon, runThreeFaults } from '../helpers/real-guests.js';

const daemon = realGuestDaemon('redis.yaml', 'real Redis');

describe.skipIf(!isDebianImageThere)('real Redis in Debian guests', () => {
  it('keeps every acknowledged SET through a guest panic, a QEMU SIGKILL and a crash loop', async () => {
    await runThreeFaults(daemon, {
      label: 'real Redis',
      app: 'redis',
      connector: connectRedis,
      answers: (port) => pingOnce(port, 5_000, '127.0.0.1', { send: 'PING', expect: '+PONG' }),
    });
  }, 1_500_000);
});
