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

/** A step failed on purpose at a test's fault point (`BATON_FAULT_POINT=<phase>:fail`), without acting. */
export class FaultInjectedError extends BatonError {
  readonly step: string;

  constructor(step: string) {
    super('FAULT_INJECTED', `fault point ${step}:fail: ${step} failed without acting`);
    this.step = step;
  }
}
FaultInjectedError.prototype.name = 'FaultInjectedError';

/** A wait ran past its deadline: says what it waited for, how long, and what it saw last. */
export class WaitTimeoutError extends BatonError {
  readonly waitedFor: string;
  readonly timeoutMs: number;
  readonly lastSeen: string | undefined;

  constructor(fields: { waitedFor: string; timeoutMs: number; lastSeen?: string; hint?: string }) {
    const seen = fields.lastSeen === undefined ? '' : `; last seen: ${fields.lastSeen}`;
    const hint = fields.hint === undefined ? '' : `; ${fields.hint}`;
    super(
      'WAIT_TIMEOUT',
      `Timed out after ${fields.timeoutMs} ms waiting for ${fields.waitedFor}${seen}${hint}`,
    );
    this.waitedFor = fields.waitedFor;
    this.timeoutMs = fields.timeoutMs;
    this.lastSeen = fields.lastSeen;
  }
}
WaitTimeoutError.prototype.name = 'WaitTimeoutError';

/** `failover --wait` ran past its timeout: the failover goes on, in `phase`; nothing was changed. */
export class FailoverWaitTimeoutError extends WaitTimeoutError {
  readonly failoverId: string;
  readonly phase: string | null;

  constructor(fields: { failoverId: string; phase: string | null; timeoutMs: number }) {
    super({
      waitedFor: `failover ${fields.failoverId} to finish`,
      timeoutMs: fields.timeoutMs,
      lastSeen: fields.phase === null ? 'no phase begun yet' : `phase ${fields.phase}`,
      hint: 'the failover goes on: follow it with `baton events --follow` or `baton history`',
    });
    this.failoverId = fields.failoverId;
    this.phase = fields.phase;
  }

  /** The fields `--json` adds to the error object. */
  jsonContext(): Record<string, unknown> {
    return { failoverId: this.failoverId, phase: this.phase };
  }
}
FailoverWaitTimeoutError.prototype.name = 'FailoverWaitTimeoutError';

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

/** QEMU answered a QMP command with an error. */
export class QmpCommandError extends BatonError {
  readonly command: string;
  readonly errorClass: string;
  readonly desc: string;
  readonly vm: string;

  constructor(fields: { command: string; errorClass: string; desc: string; vm: string }) {
    super('QMP_COMMAND_FAILED', `QMP ${fields.command} failed on ${fields.vm}: ${fields.desc}`);
    this.command = fields.command;
    this.errorClass = fields.errorClass;
    this.desc = fields.desc;
    this.vm = fields.vm;
  }
}
QmpCommandError.prototype.name = 'QmpCommandError';

/** The QMP connection closed while a command was pending, or before one could be sent. */
export class QmpDisconnectedError extends BatonError {
  readonly vm: string;
  readonly command: string | undefined;

  constructor(fields: { vm: string; command?: string }, options?: { cause?: unknown }) {
    const what = fields.command === undefined ? 'QMP connection' : `QMP ${fields.command}`;
    super('QMP_DISCONNECTED', `${what} lost on ${fields.vm}: the connection closed`, options);
    this.vm = fields.vm;
    this.command = fields.command;
  }
}
QmpDisconnectedError.prototype.name = 'QmpDisconnectedError';

/** The QMP peer broke the protocol (no greeting, an id-less error, a malformed reply). */
export class QmpProtocolError extends BatonError {
  readonly vm: string;

  constructor(vm: string, detail: string) {
    super('QMP_PROTOCOL', `QMP protocol error on ${vm}: ${detail}`);
    this.vm = vm;
  }
}
QmpProtocolError.prototype.name = 'QmpProtocolError';

/** The guest agent answered a request with an error, or sent something we refused. */
export class AgentError extends BatonError {
  readonly vm: string;
  readonly agentCode: string;
  /** The guest's own words, as the agent sent them. */
  readonly agentMessage: string;

  constructor(fields: { vm: string; agentCode: string; message: string }) {
    super(
      'AGENT_ERROR',
      `Guest agent on ${fields.vm} refused the request: ${fields.agentCode}: ${fields.message}`,
    );
    this.vm = fields.vm;
    this.agentCode = fields.agentCode;
    this.agentMessage = fields.message;
  }
}
AgentError.prototype.name = 'AgentError';

/** QEMU did not start, or exited before it could be used. */
export class VmLaunchError extends BatonError {
  readonly vm: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly argv: readonly string[];
  readonly logTail: string;

  constructor(fields: {
    vm: string;
    detail: string;
    exitCode: number | null;
    signal: string | null;
    argv: readonly string[];
    logTail: string;
  }) {
    const status = fields.signal === null ? `exit code ${fields.exitCode}` : `signal ${fields.signal}`;
    super(
      'VM_LAUNCH_FAILED',
      `QEMU for ${fields.vm} failed to start: ${fields.detail} (${status})\nargv: ${fields.argv.join(' ')}\nlog tail:\n${fields.logTail}`,
    );
    this.vm = fields.vm;
    this.exitCode = fields.exitCode;
    this.signal = fields.signal;
    this.argv = fields.argv;
    this.logTail = fields.logTail;
  }
}
VmLaunchError.prototype.name = 'VmLaunchError';

/**
 * A system call in the native addon failed unexpectedly. `code` is the errno name ('EISDIR') or
 * 'NATIVE_INTERNAL'; `syscall` and `errno` (negative, as on Node's own system errors) are set
 * when a system call failed.
 */
export class NativeError extends BatonError {
  readonly syscall: string | undefined;
  readonly errno: number | undefined;

  constructor(
    fields: { code: string; message: string; syscall?: string; errno?: number },
    options?: { cause?: unknown },
  ) {
    super(fields.code, fields.message, options);
    this.syscall = fields.syscall;
    this.errno = fields.errno;
  }
}
NativeError.prototype.name = 'NativeError';

/** One candidate path for the native addon and why it did not load. */
export interface NativeLoadFailure {
  path: string;
  error: Error;
}

/** No candidate path held a loadable native addon; lists every path tried and why each failed. */
export class NativeLoadError extends BatonError {
  readonly triedPaths: readonly string[];
  readonly failures: readonly NativeLoadFailure[];

  constructor(failures: readonly NativeLoadFailure[]) {
    const lines = failures.map(({ path, error }) => {
      // dlopen errors already start with the path; print it once.
      const detail = (error.message.split('\n')[0] ?? '').replace(`${path}: `, '');
      return `  ${path}: ${detail}`;
    });
    super(
      'NATIVE_LOAD_FAILED',
      `Native addon baton_native.node could not be loaded from ${failures.length} path(s):\n${lines.join('\n')}\nBuild it with \`make build\` (or \`npm run build:native\`)`,
    );
    this.triedPaths = failures.map(({ path }) => path);
    this.failures = failures;
  }
}
NativeLoadError.prototype.name = 'NativeLoadError';

/** The resource table broke one or more of its invariants; `violations` lists each one found. */
export class TableInvariantError extends BatonError {
  readonly epoch: number;
  readonly violations: readonly string[];

  constructor(fields: { epoch: number; violations: readonly string[] }) {
    super(
      'TABLE_INVARIANT',
      `Resource table at epoch ${fields.epoch} breaks ${fields.violations.length} invariant(s):\n  ${fields.violations.join('\n  ')}`,
    );
    this.epoch = fields.epoch;
    this.violations = fields.violations;
  }
}
TableInvariantError.prototype.name = 'TableInvariantError';

/** A change to the resource table was refused (not enough memory, unknown app or VM); nothing changed. */
export class TableRequestError extends BatonError {
  readonly operation: string;

  constructor(fields: { operation: string; message: string }) {
    super('TABLE_REQUEST_REFUSED', fields.message);
    this.operation = fields.operation;
  }
}
TableRequestError.prototype.name = 'TableRequestError';

/** The host could not prove that a VM is stopped: nothing may start its apps elsewhere. */
export class FenceError extends BatonError {
  readonly vm: string;

  constructor(vm: string, detail: string, options?: { cause?: unknown }) {
    super('FENCE_FAILED', `Cannot confirm that ${vm} is stopped: ${detail}`, options);
    this.vm = vm;
  }
}
FenceError.prototype.name = 'FenceError';

/** A memory request was refused before anything was sent to QEMU (unknown slot, too large, unaligned). */
export class MemoryRequestError extends BatonError {
  readonly vm: string;
  readonly slot: string;
  readonly operation: 'plug' | 'unplug' | 'observe';
  readonly requestedBytes: number | undefined;

  constructor(fields: {
    vm: string;
    slot: string;
    operation: 'plug' | 'unplug' | 'observe';
    requestedBytes?: number;
    message: string;
  }) {
    super('MEMORY_REQUEST_REFUSED', fields.message);
    this.vm = fields.vm;
    this.slot = fields.slot;
    this.operation = fields.operation;
    this.requestedBytes = fields.requestedBytes;
  }
}
MemoryRequestError.prototype.name = 'MemoryRequestError';

/** A memory slot's size stopped moving toward the request: no change for `stalledMs`. */
export class MemoryStuckError extends BatonError {
  readonly vm: string;
  readonly slot: string;
  readonly operation: 'plug' | 'unplug';
  readonly requestedBytes: number;
  /** The size last seen plugged. */
  readonly pluggedBytes: number;
  /** How long the size had not changed when the wait gave up. */
  readonly stalledMs: number;
  /** How long since the request was sent. */
  readonly elapsedMs: number;
  /** How the last size was seen, and when (the mechanism's clock). */
  readonly lastSeenBy: 'event' | 'poll';
  readonly lastSeenAtMs: number;

  constructor(fields: {
    vm: string;
    slot: string;
    operation: 'plug' | 'unplug';
    requestedBytes: number;
    pluggedBytes: number;
    stalledMs: number;
    elapsedMs: number;
    lastSeenBy: 'event' | 'poll';
    lastSeenAtMs: number;
  }) {
    const mib = (bytes: number) => `${Math.round((bytes / 1048576) * 10) / 10} MiB`;
    super(
      'MEMORY_STUCK',
      `Memory ${fields.operation} stuck on ${fields.vm} ${fields.slot}: ${mib(fields.pluggedBytes)} plugged of ${mib(fields.requestedBytes)} requested, no progress for ${Math.round(fields.stalledMs)} ms (${Math.round(fields.elapsedMs)} ms since the request; last seen by ${fields.lastSeenBy})`,
    );
    this.vm = fields.vm;
    this.slot = fields.slot;
    this.operation = fields.operation;
    this.requestedBytes = fields.requestedBytes;
    this.pluggedBytes = fields.pluggedBytes;
    this.stalledMs = fields.stalledMs;
    this.elapsedMs = fields.elapsedMs;
    this.lastSeenBy = fields.lastSeenBy;
    this.lastSeenAtMs = fields.lastSeenAtMs;
  }
}
MemoryStuckError.prototype.name = 'MemoryStuckError';

/** The request is valid but the daemon's state does not allow it now (e.g. a blocked pair). */
export class ConflictError extends BatonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFLICT', message, options);
  }
}
ConflictError.prototype.name = 'ConflictError';

/** A named thing (app, VM) does not exist. */
export class NotFoundError extends BatonError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}
NotFoundError.prototype.name = 'NotFoundError';

/** A single-app move was refused before anything changed (not a hot-standby app, no standby, busy). */
export class AppMoveRefusedError extends BatonError {
  readonly app: string;

  constructor(fields: { app: string; toVm: string; detail: string }, options?: { cause?: unknown }) {
    super('APP_MOVE_REFUSED', `Cannot move ${fields.app} to ${fields.toVm}: ${fields.detail}`, options);
    this.app = fields.app;
  }
}
AppMoveRefusedError.prototype.name = 'AppMoveRefusedError';

/** A VM-level fault seen while an operation on that VM was under way (panic, QEMU exit, QMP loss). */
export class VmFaultError extends BatonError {
  readonly vm: string;
  readonly signal: string;

  constructor(fields: { vm: string; signal: string; during: string }) {
    super('VM_FAULT', `${fields.vm} failed (${fields.signal}) during ${fields.during}`);
    this.vm = fields.vm;
    this.signal = fields.signal;
  }
}
VmFaultError.prototype.name = 'VmFaultError';

/** A config file could not be read or is invalid; `problems` holds one line per problem, each naming the file. */
export class ConfigError extends BatonError {
  readonly file: string;
  readonly problems: readonly string[];

  constructor(fields: { file: string; problems: readonly string[] }, options?: { cause?: unknown }) {
    super('INVALID_CONFIG', fields.problems.join('\n'), options);
    this.file = fields.file;
    this.problems = fields.problems;
  }
}
ConfigError.prototype.name = 'ConfigError';

/** A state save carried an epoch that is not above the stored one: a stale writer, refused. */
export class StaleEpochError extends BatonError {
  readonly epoch: number;
  readonly storedEpoch: number;

  constructor(fields: { epoch: number; storedEpoch: number; dir: string }) {
    super(
      'STALE_EPOCH',
      `Refusing to save state epoch ${fields.epoch} in ${fields.dir}: epoch ${fields.storedEpoch} is already stored`,
    );
    this.epoch = fields.epoch;
    this.storedEpoch = fields.storedEpoch;
  }
}
StaleEpochError.prototype.name = 'StaleEpochError';

/** State files exist but none of them is usable; `problems` names each file and what is wrong with it. */
export class StateCorruptError extends BatonError {
  readonly dir: string;
  readonly problems: readonly string[];

  constructor(fields: { dir: string; problems: readonly string[] }) {
    super(
      'STATE_CORRUPT',
      `No usable state in ${fields.dir}: ${fields.problems.join('; ')}; the files are left as they are`,
    );
    this.dir = fields.dir;
    this.problems = fields.problems;
  }
}
StateCorruptError.prototype.name = 'StateCorruptError';

/** A state file has a schema version this build cannot read and no migration reaches. */
export class StateVersionError extends BatonError {
  readonly file: string;
  readonly foundVersion: number;
  readonly supportedVersion: number;

  constructor(fields: { file: string; foundVersion: number; supportedVersion: number }) {
    super(
      'STATE_VERSION',
      `${fields.file} has state schema version ${fields.foundVersion}; this baton reads version ${fields.supportedVersion} and has no migration from ${fields.foundVersion}: refusing to read it`,
    );
    this.file = fields.file;
    this.foundVersion = fields.foundVersion;
    this.supportedVersion = fields.supportedVersion;
  }
}
StateVersionError.prototype.name = 'StateVersionError';

/**
 * A state file names a failover phase this build does not know (written by another version of
 * baton): refused, never misread as some other phase.
 */
export class StatePhaseUnknownError extends BatonError {
  readonly file: string;
  readonly schemaVersion: number;
  readonly phase: string;
  /** What was unknown: a phase name, or a step's mark (`undo`). */
  readonly field: 'phase' | 'mark';

  constructor(fields: {
    file: string;
    schemaVersion: number;
    /** The state schema version this build reads. */
    supportedVersion: number;
    phase: string;
    field?: 'phase' | 'mark';
    operationId: string;
    known: readonly string[];
  }) {
    const field = fields.field ?? 'phase';
    const at = field === 'mark' ? `a step marked '${fields.phase}'` : `phase '${fields.phase}'`;
    super(
      'STATE_PHASE_UNKNOWN',
      `${fields.file} (state schema version ${fields.schemaVersion}) has operation ${fields.operationId} at ${at}, which this baton (state schema version ${fields.supportedVersion}, ${field}s ${fields.known.join(', ')}) does not know: it was written by another version; refusing to read it`,
    );
    this.file = fields.file;
    this.schemaVersion = fields.schemaVersion;
    this.phase = fields.phase;
    this.field = field;
  }
}
StatePhaseUnknownError.prototype.name = 'StatePhaseUnknownError';

/** The state directory or a file in it is not safe to use (a symlink, world-writable, someone else's). */
export class StateUnsafeError extends BatonError {
  readonly path: string;

  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super('STATE_UNSAFE', `Refusing to use ${path}: ${detail}`, options);
    this.path = path;
  }
}
StateUnsafeError.prototype.name = 'StateUnsafeError';

/** A failover phase was begun or ended out of order (a bug in the caller); the operation is unchanged. */
export class OperationPhaseError extends BatonError {
  readonly operationId: string;
  readonly phase: string;

  constructor(fields: { operationId: string; phase: string; detail: string }) {
    super('OPERATION_PHASE_REFUSED', `Operation ${fields.operationId}: cannot ${fields.detail}`);
    this.operationId = fields.operationId;
    this.phase = fields.phase;
  }
}
OperationPhaseError.prototype.name = 'OperationPhaseError';

/** A benchmark run could not measure what it set out to (a failover did not succeed, a guest would not take the memory). */
export class BenchError extends BatonError {
  readonly scenario: string;

  constructor(scenario: string, detail: string, options?: { cause?: unknown }) {
    super('BENCH_FAILED', `Benchmark ${scenario} failed: ${detail}`, options);
    this.scenario = scenario;
  }
}
BenchError.prototype.name = 'BenchError';

/** A guest image cannot be booted: it is not a qcow2 or raw disk, its boot.json is wrong, or it has no kernel. */
export class ImageError extends BatonError {
  readonly path: string;

  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super('INVALID_IMAGE', `Cannot boot ${path}: ${detail}`, options);
    this.path = path;
  }
}
ImageError.prototype.name = 'ImageError';

/** A guest booted but cannot be used by baton (its kernel lacks a driver baton needs); QEMU was stopped. */
export class GuestUnsupportedError extends BatonError {
  readonly vm: string;
  readonly kernelRelease: string;

  constructor(fields: { vm: string; kernelRelease: string; detail: string }) {
    super('GUEST_UNSUPPORTED', `Refusing ${fields.vm}: ${fields.detail}`);
    this.vm = fields.vm;
    this.kernelRelease = fields.kernelRelease;
  }
}
GuestUnsupportedError.prototype.name = 'GuestUnsupportedError';
