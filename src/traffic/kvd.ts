// Client traffic to the demo app kvd: `SET traffic-<n> <n>` answered OK, `GET` answered `VALUE <n>`.
import { KvClient } from '../endpoint/kv-client.js';
import { type TrafficConnector, trafficKey } from './store.js';

export const connectKvd: TrafficConnector = async (port, timeoutMs) => {
  const client = await KvClient.connect(port, timeoutMs);
  return {
    write: async (n) => (await client.request(`SET ${trafficKey(n)} ${n}`, timeoutMs)) === 'OK',
    read: async (n) => {
      const answer = await client.request(`GET ${trafficKey(n)}`, timeoutMs);
      if (answer === undefined) throw new Error('kvd closed the connection');
      return answer === `VALUE ${n}`;
    },
    close: () => client.close(),
  };
};
