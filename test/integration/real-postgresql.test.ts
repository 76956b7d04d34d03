// Real PostgreSQL 15 (contrib/examples/postgresql.yaml) in the Debian pair: a guest panic, a SIGKILL of the active QEMU and a crash loop of the postmaster under committed INSERTs, none lost.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresConnector } from '../../src/traffic/postgres.js';
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
  console.log(
    `[integration] skipping real PostgreSQL: ${debianImageDir}/boot.json is absent (run make images)`,
  );

const scratch = mkdtempSync('/tmp/btp-');
const stateDir = join(scratch, 'state');
const daemon = new BatonDaemon(stateDir);
const BOOT_TIMEOUT_MS = 600_000;
// The image's pg_hba.conf trusts this user on this database from QEMU user networking (a demo setting).
const connector = postgresConnector({ user: 'postgres', database: 'postgres' });

async function answers(port: number): Promise<boolean> {
  try {
    const store = await connector(port, 5_000);
    store.close();
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  if (!isDebianImageThere) return;
  mkdirSync(stateDir);
  const config = writeTestConfig('postgresql.yaml', stateDir);
  const up = await daemon.start({}, ['--config', config], BOOT_TIMEOUT_MS).catch((error: Error) => {
    throw new Error(`${error.message}\n${serialTails(stateDir)}`);
  });
  console.log(`[integration] real PostgreSQL: the Debian pair up with PostgreSQL in ${up.upMs} ms`);
}, BOOT_TIMEOUT_MS);

afterAll(async () => {
  await daemon.kill('SIGTERM');
  expect(qemuPidsUnder(stateDir)).toEqual([]);
  rmSync(scratch, { recursive: true, force: true });
}, 120_000);

describe.skipIf(!isDebianImageThere)('real PostgreSQL in Debian guests', () => {
  // One run through the three faults: the traffic's keys start at 0 again in a new run, and the
  // committed rows of an earlier run would refuse them (primary key). In the crash loop, the crash
  // kills the postmaster only: its backends called setsid() and stay in its cgroup until the agent
  // kills them, so the restart in place finds the data disk and the shared memory free.
  it('keeps every committed INSERT through a guest panic, a QEMU SIGKILL and a crash loop', async () => {
    await runThreeFaults(daemon, {
      label: 'real PostgreSQL',
      app: 'postgresql',
      connector,
      answers,
    });
  }, 2_400_000);
});
