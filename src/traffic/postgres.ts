// Client traffic to PostgreSQL through a real client (node-postgres): one committed INSERT per key.
import pg from 'pg';
import type { TrafficConnector } from './store.js';

/** The table the traffic writes; created on first connect. */
export const TRAFFIC_TABLE = 'baton_traffic';

export interface PostgresTarget {
  user: string;
  database: string;
  password?: string;
}

/** A connector for PostgreSQL with these credentials (trust or password authentication). */
export function postgresConnector(target: PostgresTarget): TrafficConnector {
  return async (port, timeoutMs) => {
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user: target.user,
      database: target.database,
      password: target.password,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
    });
    client.on('error', () => undefined); // Surfaced by the query that failed.
    try {
      await client.connect();
      await client.query(`CREATE TABLE IF NOT EXISTS ${TRAFFIC_TABLE} (n bigint PRIMARY KEY)`);
    } catch (error) {
      await client.end().catch(() => undefined); // Already failed: the first error is the one to report.
      throw error;
    }
    return {
      // Autocommit: the INSERT's answer comes after its commit, so an answered write is a committed one.
      write: async (n) =>
        (await client.query(`INSERT INTO ${TRAFFIC_TABLE} (n) VALUES ($1)`, [n])).rowCount === 1,
      read: async (n) =>
        (await client.query(`SELECT n FROM ${TRAFFIC_TABLE} WHERE n = $1`, [n])).rowCount === 1,
      close: () => {
        client.end().catch(() => undefined); // Closing a broken connection may fail; nothing is left open.
      },
    };
  };
}
