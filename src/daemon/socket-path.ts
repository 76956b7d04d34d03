// Where a state directory's daemon listens: shared by the daemon and the light CLI client.
import { join } from 'node:path';

/** The control socket of the daemon of `stateDir`. */
export function socketPathOf(stateDir: string): string {
  return join(stateDir, 'baton.sock');
}
