// Named fault points for fault tests: `BATON_FAULT_POINT=<phase>:crash` kills the daemon right after a phase's intent is journaled; `<phase>:fail` makes the phase fail without acting.

/**
 * The environment variable naming fault points, comma-separated, each `<phase>:<action>`:
 * `fence:crash`, `plug:kv:crash`, `start:fail,undo-disk:crash`.
 */
export const FAULT_POINT_ENV = 'BATON_FAULT_POINT';

/** `crash`: SIGKILL of the daemon once the intent is on disk; `fail`: the step throws FaultInjectedError instead of acting. */
export type FaultAction = 'crash' | 'fail';

/**
 * The action BATON_FAULT_POINT names for step `name` (`plug` also matches `plug:kv`), or
 * undefined; always undefined unless the config allows fault injection.
 */
export function faultPointAt(
  name: string,
  isAllowed: boolean,
  env: NodeJS.ProcessEnv = process.env,
): FaultAction | undefined {
  const points = env[FAULT_POINT_ENV];
  if (!isAllowed || points === undefined) return undefined;
  for (const point of points.split(',')) {
    const action = (['crash', 'fail'] as const).find((a) => point.endsWith(`:${a}`));
    if (action === undefined) continue;
    const wanted = point.slice(0, -`:${action}`.length);
    if (wanted === name || wanted === name.split(':')[0]) return action;
  }
  return undefined;
}

/** True when BATON_FAULT_POINT asks for a crash at step `name` and the config allows fault injection. */
export function isCrashPoint(
  name: string,
  isAllowed: boolean,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return faultPointAt(name, isAllowed, env) === 'crash';
}

/** Dies at once, as a `kill -9` of the daemon would: no handler, no flush after this. */
export function crashNow(): void {
  process.kill(process.pid, 'SIGKILL');
}
