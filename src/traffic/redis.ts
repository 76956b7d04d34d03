// Client traffic to Redis through a real Redis client (ioredis): SET/GET of `traffic-<n>`, no retries of its own.
import { Redis } from 'ioredis';
import { type TrafficConnector, trafficKey } from './store.js';

export const connectRedis: TrafficConnector = async (port, timeoutMs) => {
  // The traffic loop reconnects itself and counts a write only when Redis answered it: the client
  // must neither queue commands while disconnected nor resend them after a reconnect.
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
  });
  client.on('error', () => undefined); // Surfaced by the command that failed.
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return {
    write: async (n) => (await client.set(trafficKey(n), String(n))) === 'OK',
    read: async (n) => (await client.get(trafficKey(n))) === String(n),
    close: () => client.disconnect(),
  };
};
