// The guest agent's wire format (docs/agent-protocol.md) as schemas; every guest line is hostile input.
import { z } from 'zod';

/** Cap on one line, both directions (the agent enforces the same). */
export const AGENT_MAX_LINE_BYTES = 4096;
/** Cap on JSON nesting in a guest message; no valid message is deeper than 4. */
export const AGENT_MAX_DEPTH = 6;

const bytes = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const shortText = z.string().max(128);

export const helloSchema = z.strictObject({
  type: z.literal('hello'),
  agentVersion: shortText,
  bootId: z.string().regex(/^[0-9a-f-]{0,64}$/),
  memTotalBytes: bytes,
  memoryBlockSizeBytes: bytes,
  numaNodes: z.array(z.strictObject({ id: z.number().int().min(0).max(1023), memTotalBytes: bytes })).max(64),
  heartbeatMs: z.number().int().min(1).max(3_600_000),
  uptimeMs: bytes,
  /** `uname -r` of the guest; absent from agents older than it. */
  kernelRelease: z
    .string()
    .regex(/^[\x20-\x7e]{0,64}$/)
    .optional(),
  /** The guest has the virtio_mem driver; absent from agents older than it. */
  virtioMem: z.boolean().optional(),
});

export const heartbeatSchema = z.strictObject({
  type: z.literal('heartbeat'),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  uptimeMs: bytes,
});

const errorBody = z.strictObject({ code: shortText, message: z.string().max(1024) });

export const replySchema = z.union([
  z.strictObject({
    type: z.literal('reply'),
    id: bytes,
    ok: z.literal(true),
    result: z.record(z.string(), z.unknown()),
  }),
  z.strictObject({ type: z.literal('reply'), id: bytes, ok: z.literal(false), error: errorBody }),
]);

const appName = z.string().regex(/^[a-z0-9-]{1,32}$/);
const exitNumber = z.number().int().min(0).max(255).nullable();

export const APP_SEVERITIES = ['clean', 'failed', 'crashed', 'oom', 'hang', 'stopped', 'killed'] as const;
export type AppSeverity = (typeof APP_SEVERITIES)[number];

export const appExitedSchema = z.strictObject({
  type: z.literal('app.exited'),
  name: appName,
  pid: z.number().int().min(1).max(4_194_304),
  code: exitNumber,
  signal: exitNumber,
  severity: z.enum(APP_SEVERITIES).optional(),
});

export const appReadySchema = z.strictObject({
  type: z.literal('app.ready'),
  name: appName,
  pid: z.number().int().min(1).max(4_194_304),
});

/** The guest asks for more memory for an app (seed claim 5); capped far below any real budget. */
export const memRequestSchema = z.strictObject({
  type: z.literal('mem.request'),
  app: appName,
  bytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
});

export const agentErrorSchema = z.strictObject({
  type: z.literal('error'),
  code: shortText,
  message: z.string().max(1024),
});

export const guestMessageSchema = z.union([
  helloSchema,
  heartbeatSchema,
  replySchema,
  agentErrorSchema,
  appExitedSchema,
  appReadySchema,
  memRequestSchema,
]);

export type Hello = z.infer<typeof helloSchema>;
export type Heartbeat = z.infer<typeof heartbeatSchema>;
export type Reply = z.infer<typeof replySchema>;
export type AppExited = z.infer<typeof appExitedSchema>;
export type AppReady = z.infer<typeof appReadySchema>;
export type MemRequest = z.infer<typeof memRequestSchema>;
export type GuestMessage = z.infer<typeof guestMessageSchema>;

export const syncResultSchema = z.strictObject({ nonce: z.string().max(64) });

export const memStatusSchema = z.strictObject({
  memTotalBytes: bytes,
  memFreeBytes: bytes,
  memAvailableBytes: bytes,
  memoryBlockSizeBytes: bytes,
  blocksOnline: bytes,
  blocksOffline: bytes,
  numaNodes: z
    .array(
      z.strictObject({ id: z.number().int().min(0).max(1023), memTotalBytes: bytes, memFreeBytes: bytes }),
    )
    .max(64),
});

export type MemStatus = z.infer<typeof memStatusSchema>;

export const appStartResultSchema = z.strictObject({
  name: appName,
  pid: z.number().int().min(1).max(4_194_304),
});
export const appStopResultSchema = z.strictObject({ name: appName, code: exitNumber, signal: exitNumber });

/** The agent's error codes for a start that fails because of the app's configuration (v3). */
export const APP_START_CONFIG_ERRORS = [
  'spawn-failed',
  'mount-failed',
  'account-not-found',
  'prepare-failed',
  'unit-not-found',
  'unit-failed',
] as const;

/** The agent's health check of an app (v2; kinds and their fields v3). */
export interface AppStartHealth {
  kind?: 'line' | 'tcp' | 'http' | 'exec';
  /** Required except for exec. */
  port?: number;
  send?: string;
  expect?: string;
  path?: string;
  argv?: readonly string[];
  intervalMs: number;
  timeoutMs: number;
  failuresToUnhealthy: number;
}

/** What the host asks the agent to start: argv (or a systemd unit), an optional data disk by serial. */
export interface AppStartRequest {
  name: string;
  /** Exactly one of argv and unit. */
  argv?: readonly string[];
  unit?: string;
  /** v3, argv apps only. */
  user?: string;
  group?: string;
  /** v3: KEY=VALUE entries. */
  env?: readonly string[];
  workdir?: string;
  disk?: { serial: string; mountPoint: string; owner?: string; prepare?: readonly string[] };
  /** v2: cgroup memory.max, and the agent's check of the node before spawning. */
  memoryBytes?: number;
  /** v2: the NUMA node of the app's slot; the app's memory is bound to it. */
  node?: number;
  /** v2: the agent's own health check (default PING/PONG on 127.0.0.1:port). */
  health?: AppStartHealth;
}

/** Depth of a parsed JSON value (a scalar is 0, `{}` is 1). Stops counting past `limit`. */
export function jsonDepth(value: unknown, limit: number = AGENT_MAX_DEPTH + 1): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (limit <= 0) return 1;
  let deepest = 0;
  for (const child of Object.values(value)) {
    deepest = Math.max(deepest, jsonDepth(child, limit - 1));
    if (deepest >= limit) break;
  }
  return deepest + 1;
}

const schemaByType = {
  hello: helloSchema,
  heartbeat: heartbeatSchema,
  reply: replySchema,
  error: agentErrorSchema,
  'app.exited': appExitedSchema,
  'app.ready': appReadySchema,
  'mem.request': memRequestSchema,
} as const;

/** Validates one parsed guest line. Returns the typed message or a short reason it was refused. */
export function parseGuestMessage(
  value: unknown,
): { ok: true; message: GuestMessage } | { ok: false; reason: string } {
  if (jsonDepth(value) > AGENT_MAX_DEPTH)
    return { ok: false, reason: `nested deeper than ${AGENT_MAX_DEPTH}` };
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  if (typeof type !== 'string' || !Object.hasOwn(schemaByType, type)) {
    return { ok: false, reason: `type: unknown message type ${JSON.stringify(type)?.slice(0, 40)}` };
  }
  const parsed = schemaByType[type as keyof typeof schemaByType].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const keys = issue?.code === 'unrecognized_keys' ? issue.keys.join(',').slice(0, 80) : undefined;
    const where = keys ?? (issue?.path.length ? issue.path.join('.') : '(message)');
    return { ok: false, reason: `${where}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, message: parsed.data };
}
