// The CLI's exit codes and how a failure is reported: one line for people, or `{ "error": … }` on stdout.
import { isBatonError } from '../errors.js';

/** Exit codes (documented in --help and the README). */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  missingDependency: 3,
  daemonNotRunning: 4,
  refused: 5,
} as const;

export const EXIT_HELP = `
Exit codes:
  0  ok
  1  the command failed (also: a failover that failed, or --wait past its timeout)
  2  bad arguments, config or request; a guest image baton cannot boot (not qcow2 or raw, no kernel, no virtio-mem)
  3  a dependency is missing (QEMU, qemu-img, the guest image or a file it names, the native addon, mkfs.ext4)
  4  no daemon is running on the state directory
  5  the daemon refused the request in its current state (blocked, busy, unknown app, pool too small)
With --json, a failure prints { "error": { "code", "message" } } on stdout.`;

const EXIT_BY_CODE: Record<string, number> = {
  MISSING_DEPENDENCY: EXIT.missingDependency,
  NATIVE_LOAD_FAILED: EXIT.missingDependency,
  INVALID_INPUT: EXIT.usage,
  INVALID_CONFIG: EXIT.usage,
  INVALID_IMAGE: EXIT.usage,
  GUEST_UNSUPPORTED: EXIT.usage,
  DAEMON_NOT_RUNNING: EXIT.daemonNotRunning,
  CONFLICT: EXIT.refused,
  NOT_FOUND: EXIT.refused,
  TABLE_REQUEST_REFUSED: EXIT.refused,
  MEMORY_REQUEST_REFUSED: EXIT.refused,
  APP_MOVE_REFUSED: EXIT.refused,
};

/** The error object of `--json` output: a stable code, the message, and typed context when there is some. */
export interface ErrorJson {
  code: string;
  message: string;
  [field: string]: unknown;
}

/** What a failure becomes: its exit code and its JSON form. Commander's own errors are bad arguments. */
export function describeFailure(error: unknown): { exitCode: number; json: ErrorJson } {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && code.startsWith('commander.'))
    return {
      exitCode: EXIT.usage,
      json: { code: 'INVALID_INPUT', message: message.replace(/^error: /, '') },
    };
  if (isBatonError(error)) {
    const context = (error as { jsonContext?: () => Record<string, unknown> }).jsonContext?.() ?? {};
    return {
      exitCode: EXIT_BY_CODE[error.code] ?? EXIT.failed,
      json: { code: error.code, message, ...context },
    };
  }
  // A system error keeps its code (ECONNRESET); anything else is a plain failure.
  const stable = typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : 'FAILED';
  return { exitCode: EXIT.failed, json: { code: stable, message } };
}

/** True when the arguments ask for JSON (`--json` anywhere before a `--`). */
export function isJsonRequested(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}
