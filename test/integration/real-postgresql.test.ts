// Real PostgreSQL 15 (contrib/examples/postgresql.yaml) in the Debian pair: a guest panic, a SIGKILL of the active QEMU and a crash loop of the postmaster under committed INSERTs, none lost.
import { describe, it } from 'vitest';
import { postgresConnector } from '../../src/traffic/postgres.js';
import { isDebianImageThere, realGuestDaemon, runThreeFaults } from '../helpers/real-guests.js';

const daemon = realGuestDaemon('postgresql.yaml', 'real PostgreSQL');
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
