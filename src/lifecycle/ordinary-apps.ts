// Which ordinary apps to start again after a whole-VM failover (or a daemon restart), and which must wait for the pool; pure.
import { formatBytes } from '../units.js';

export interface OrdinaryAppFacts {
  readonly name: string;
  readonly hotStandby: boolean;
  /** The memory it starts with (its agent asks for it from the pool). */
  readonly sizeBytes: number;
  /** It runs somewhere now (its endpoint routes to a VM), or the table already gives it an area. */
  readonly isPlaced: boolean;
}

export type OrdinaryAppStep =
  | { readonly app: string; readonly action: 'start' }
  | { readonly app: string; readonly action: 'wait'; readonly reason: string };

/**
 * Hot-standby apps fail over with their VM; an ordinary app on the failed VM gave its area back
 * to the pool and runs nowhere. Once the hot-standby apps are healthy on the new active, each
 * such app starts there again, in config order, while the pool can grant its size; the others wait,
 * with the numbers (`pool has 16 MiB, needs 32 MiB`), and are planned again when the pool grows.
 */
export function planOrdinaryRestarts(
  apps: readonly OrdinaryAppFacts[],
  pool: { readonly poolBytes: number; readonly blockBytes: number },
): OrdinaryAppStep[] {
  let leftBytes = pool.poolBytes;
  const steps: OrdinaryAppStep[] = [];
  for (const app of apps) {
    if (app.hotStandby || app.isPlaced) continue;
    const needBytes = Math.ceil(app.sizeBytes / pool.blockBytes) * pool.blockBytes;
    if (needBytes > leftBytes) {
      steps.push({
        app: app.name,
        action: 'wait',
        reason: `pool has ${formatBytes(leftBytes)}, needs ${formatBytes(needBytes)}`,
      });
      continue;
    }
    leftBytes -= needBytes;
    steps.push({ app: app.name, action: 'start' });
  }
  return steps;
}
