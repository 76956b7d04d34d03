// The error hierarchy: every error baton throws has a stable `code` and typed context fields.

/** Base of every error baton throws on purpose; branch on `code`, never on the message. */
export class BatonError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
BatonError.prototype.name = 'BatonError';

/** True when `value` is a BatonError (optionally with the given code). */
export function isBatonError(value: unknown, code?: string): value is BatonError {
  return value instanceof BatonError && (code === undefined || value.code === code);
}

/** A wait ran past its deadline: says what it waited for, how long, and what it saw last. */
export class WaitTimeoutError extends BatonError {
  readonly waitedFor: string;
  readonly timeoutMs: number;
  readonly lastSeen: string | undefined;

  constructor(fields: { waitedFor: string; timeoutMs: number; lastSeen?: string; hint?: string }) {
    const seen = fields.lastSeen === undefined ? '' : `; last seen: ${fields.lastSeen}`;
    const hint = fields.hint === undefined ? '' : `; ${fields.hint}`;
    super('WAIT_TIMEOUT', `Timed out after ${fields.timeoutMs} ms waiting for ${fields.waitedFor}${seen}${hint}`);
    this.waitedFor = fields.waitedFor;
    this.timeoutMs = fields.timeoutMs;
    this.lastSeen = fields.lastSeen;
  }
}
WaitTimeoutError.prototype.name = 'WaitTimeoutError';

/** Something the host needs is not there (a binary, a device, a built artefact). */
export class MissingDependencyError extends BatonError {
  readonly what: string;

  constructor(what: string, howToGet: string, options?: { cause?: unknown }) {
    super('MISSING_DEPENDENCY', `${what} is missing: ${howToGet}`, options);
    this.what = what;
  }
}
MissingDependencyError.prototype.name = 'MissingDependencyError';

/** Input from the user (config, CLI arguments) is invalid. */
export class InvalidInputError extends BatonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_INPUT', message, options);
  }
}
InvalidInputError.prototype.name = 'InvalidInputError';
