// Named crash points for fault tests: `BATON_FAULT_POINT=<phase>:crash` kills the daemon right after a phase's intent is journaled.

/** The environment variable naming a crash point: `<phase>:crash` (e.g. `fence:crash`, `plug:kv:crash`). */
export const FAULT_POINT_ENV = 'BATON_FAULT_POINT';

/**
 * True when `BATON_FAULT_POINT` names phase `name` (`plug` also matches `plug:kv`) and the config
 * allows fault injection.
 */
export function isCrashPoint(
  name: string,
  isAllowed: boolean,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const point = env[FAULT_POINT_ENV];
  if (!isAllowed || point === undefined || !point.endsWith(':crash')) return false;
  const wanted = point.slice(0, -':crash'.length);
  return wanted === name || wanted === name.split(':')[0];
}

/** Dies at once, as a `kill -9` of the daemon would: no handler, no flush after this. */
export function crashNow(): void {
  process.kill(process.pid, 'SIGKILL');
}
