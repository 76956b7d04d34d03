// Real Redis (contrib/examples/redis.yaml) in the Debian pair: a guest panic, a SIGKILL of the active QEMU and a crash loop under ioredis writes, nothing acknowledged lost.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pingOnce } from '../../src/pair/health.js';
import { connectRedis } from '../../src/traffic/redis.js';
import { qemuPidsUnder } from '../helpers/audit.js';
import { BatonDaemon } from '../helpers/daemon.js';
import {
  debianImageDir,
  isDebianImageThere,
  runThreeFaults,
  serialTails,
  writeTestConfig,
} from '../helpers/real-guests.js';

if (!isDebianImageThere)
  console.log(`[integration] skipping real Redis: ${debianImageDir}/boot.json is absent (run make images)`);

const scratch = mkdtempSync('/tmp/btr-');
const stateDir = join(scratch, 'state');
const daemon = new BatonDaemon(stateDir);
const BOOT_TIMEOUT_MS = 600_000;

beforeAll(async () => {
  if (!isDebianImageThere) return;
  mkdirSync(stateDir);
  const config = writeTestConfig('redis.yaml', stateDir);
  const up = await daemon.start({}, ['--config', config], BOOT_TIMEOUT_MS).catch((error: Error) => {
    throw new Error(`${error.message}\n${serialTails(stateDir)}`);
  });
  console.log(`[integration] real Redis: the Debian pair up with Redis in ${up.upMs} ms`);
}, BOOT_TIMEOUT_MS);

afterAll(async () => {
  await daemon.kill('SIGTERM');
  expect(qemuPidsUnder(stateDir)).toEqual([]);
  rmSync(scratch, { recursive: true, force: true });
}, 120_000);

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
