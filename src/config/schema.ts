// The shape of the YAML config file: every key, its type and its default (see docs/config.md).
import { z } from 'zod';
import { MiB } from '../units.js';
import { DEFAULT_TCG_CACHE_BYTES } from '../vm/spec.js';
import {
  absolutePath,
  accountName,
  appName,
  argument,
  durationMs,
  filePath,
  flag,
  guestPath,
  kernelCmdline,
  loopbackAddress,
  matching,
  oneOf,
  ownerSpec,
  port,
  program,
  size,
  unitName,
  vmName,
  wholeNumber,
} from './fields.js';

export const DEFAULT_BLOCK_SIZE_BYTES = 2 * MiB;
export const DEFAULT_MONITOR_BYTES = 32 * MiB;
export const DEFAULT_MECHANISM = 'virtio-mem';
export const DEFAULT_STATE_DIR = '/var/lib/baton';
export const DEFAULT_ACCEL = 'auto';
export const DEFAULT_VM_NAMES: readonly [string, string] = ['vm-a', 'vm-b'];
export { DEFAULT_TCG_CACHE_BYTES };
export const DEFAULT_BASE_MEMORY_BYTES = 96 * MiB;
export const DEFAULT_CPUS = 1;
export const DEFAULT_HEARTBEAT_MS = 500;
export const DEFAULT_HEARTBEAT_SILENCE_MS = 3000;
export const DEFAULT_SYNC_TIMEOUT_MS = 1000;
export const DEFAULT_QMP_TIMEOUT_MS = 2000;
export const DEFAULT_HELLO_TIMEOUT_MS = 60_000;
export const DEFAULT_HEALTH_TIMEOUT_MS = 20_000;
export const DEFAULT_IS_FAULT_INJECTION_ALLOWED = false;
export const DEFAULT_IS_HOT_STANDBY = true;
export const DEFAULT_ENDPOINT_PORT = 0;
export const DEFAULT_HEALTH_INTERVAL_MS = 1000;
export const DEFAULT_HEALTH_CHECK_TIMEOUT_MS = 500;
export const DEFAULT_FAILURES_TO_UNHEALTHY = 3;
export const DEFAULT_RESTART_MAX = 3;
export const DEFAULT_RESTART_WINDOW_MS = 60_000;
/** The guest agent supervises at most 8 apps. */
export const MAX_APPS = 8;

/** Mechanisms the design names; only virtio-mem is implemented. */
export const MECHANISMS = ['virtio-mem'] as const;
const MECHANISMS_NOT_YET = ['balloon', 'dimm'];

/**
 * A mapping that refuses unknown keys. Its issues' message is what was expected; for unknown
 * keys, the allowed keys (`KNOWN_KEYS_PREFIX` + a comma-separated list) for the loader to print.
 */
export const KNOWN_KEYS_PREFIX = 'known keys: ';
function mapping<T extends z.core.$ZodLooseShape>(shape: T, what: string) {
  const known = `${KNOWN_KEYS_PREFIX}${Object.keys(shape).join(', ')}`;
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? known : what),
  });
}

/** An optional mapping: absent or empty (`metrics:` with nothing under it) means every default. */
function section<T extends z.ZodObject>(schema: T) {
  // Every key of these mappings has a default, so `{}` is a valid input.
  return z.preprocess((value) => (value === null ? undefined : value), schema.prefault({} as z.input<T>));
}

function list<T extends z.ZodType>(item: T, min: number, max: number, what: string) {
  const expected = min === max ? `a list of ${min} ${what}` : `a list of ${min} to ${max} ${what}`;
  return z.array(item, { error: expected }).min(min, { error: expected }).max(max, { error: expected });
}

/** `vms.image` as a mapping: a disk image and how to boot it (see docs/config.md). */
const diskImageSchema = mapping(
  {
    disk: filePath(),
    kernel: filePath().optional(),
    initrd: filePath().optional(),
    cmdline: kernelCmdline().optional(),
    firmware: flag().default(false),
  },
  'a mapping with disk and optional kernel, initrd, cmdline, firmware',
);

export const BUILTIN_IMAGE = 'builtin';

/** `builtin` (the default: baton's kernel and initramfs) or a disk image. */
const imageSchema = z.union([z.literal(BUILTIN_IMAGE, { error: BUILTIN_IMAGE }), diskImageSchema], {
  error: `${BUILTIN_IMAGE} or a mapping with disk`,
});

const vmsSchema = mapping(
  {
    names: z.tuple([vmName(), vmName()], { error: 'a list of 2 VM names' }).default([...DEFAULT_VM_NAMES]),
    baseMemory: size('96MiB', { isPositive: true }).default(DEFAULT_BASE_MEMORY_BYTES),
    /** Default: base memory plus every app's slotMax (filled in by the loader). */
    maxMemory: size('2GiB', { isPositive: true }).optional(),
    cpus: wholeNumber(1, 64).default(DEFAULT_CPUS),
    image: imageSchema.default(BUILTIN_IMAGE),
    tcgCache: size('64MiB', { isPositive: true }).default(DEFAULT_TCG_CACHE_BYTES),
  },
  'a mapping with names, baseMemory, maxMemory, cpus, image, tcgCache',
);

const detectionSchema = mapping(
  {
    heartbeatSilenceMs: durationMs(100, 600_000).default(DEFAULT_HEARTBEAT_SILENCE_MS),
    syncTimeoutMs: durationMs(10, 600_000).default(DEFAULT_SYNC_TIMEOUT_MS),
    qmpTimeoutMs: durationMs(100, 600_000).default(DEFAULT_QMP_TIMEOUT_MS),
    helloTimeoutMs: durationMs(1000, 3_600_000).default(DEFAULT_HELLO_TIMEOUT_MS),
    healthTimeoutMs: durationMs(100, 3_600_000).default(DEFAULT_HEALTH_TIMEOUT_MS),
  },
  'a mapping of detection timeouts',
);

/** Health-check kinds the agent runs in the guest; `line` (send, expect) is kvd's PING/PONG. */
export const HEALTH_KINDS = ['line', 'tcp', 'http', 'exec'] as const;
const HEALTH_TEXT_EXPECTED = 'printable text of 1 to 64 bytes';
const healthText = () => matching(/^[\x20-\x7e]{1,64}$/, HEALTH_TEXT_EXPECTED);

const ARGV_EXPECTED = 'a list of 1 to 32 arguments, the first an absolute path in the guest';
const argvList = () =>
  z.tuple([program()], argument(), { error: ARGV_EXPECTED }).check(z.maxLength(32, { error: ARGV_EXPECTED }));

const healthSchema = mapping(
  {
    kind: oneOf(HEALTH_KINDS).optional(),
    send: healthText().optional(),
    expect: healthText().optional(),
    path: matching(/^\/[\x21-\x7e]{0,255}$/, 'an HTTP path like /healthz').optional(),
    argv: argvList().optional(),
    intervalMs: durationMs(10, 600_000).default(DEFAULT_HEALTH_INTERVAL_MS),
    timeoutMs: durationMs(10, 600_000).default(DEFAULT_HEALTH_CHECK_TIMEOUT_MS),
    failuresToUnhealthy: wholeNumber(1, 100).default(DEFAULT_FAILURES_TO_UNHEALTHY),
  },
  'a mapping with kind, intervalMs, timeoutMs, failuresToUnhealthy and send/expect, path or argv',
);

const restartSchema = mapping(
  {
    max: wholeNumber(0, 100).default(DEFAULT_RESTART_MAX),
    windowMs: durationMs(1000, 86_400_000).default(DEFAULT_RESTART_WINDOW_MS),
  },
  'a mapping with max, windowMs',
);

const ENV_EXPECTED = 'a mapping of up to 32 NAME: value entries (NAME of A-Z a-z 0-9 _, value a string)';
const envSchema = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/),
    z
      .string()
      .max(448)
      .regex(/^[^\0]*$/),
    {
      error: ENV_EXPECTED,
    },
  )
  .check(z.refine((env) => Object.keys(env).length <= 32, { error: ENV_EXPECTED }));

const dataDiskSchema = z.union(
  [
    size('64MiB', { isPositive: true }),
    mapping(
      {
        size: size('256MiB', { isPositive: true }),
        mountPoint: guestPath().optional(),
        owner: ownerSpec().optional(),
        prepare: argvList().optional(),
      },
      'a mapping with size, mountPoint, owner, prepare',
    ),
  ],
  { error: 'a size like 64MiB, or a mapping with size, mountPoint, owner, prepare' },
);

export const appSchema = mapping(
  {
    name: appName(),
    argv: argvList().optional(),
    unit: unitName().optional(),
    user: accountName().optional(),
    group: accountName().optional(),
    env: envSchema.optional(),
    workdir: guestPath().optional(),
    memory: size('128MiB', { isPositive: true }),
    /** Default: the app's memory (the slot cannot grow). */
    slotMax: size('512MiB', { isPositive: true }).optional(),
    hotStandby: flag().default(DEFAULT_IS_HOT_STANDBY),
    port: port(),
    endpoint: port({ isZeroAllowed: true }).default(DEFAULT_ENDPOINT_PORT),
    health: section(healthSchema),
    restart: section(restartSchema),
    dataDisk: dataDiskSchema.optional(),
  },
  'a mapping with name, argv or unit, memory, port and optional settings',
);

const metricsSchema = mapping({ listen: loopbackAddress().optional() }, 'a mapping with listen');

export const configFileSchema = mapping(
  {
    budget: size('736MiB', { isPositive: true }),
    blockSize: size('2MiB', { isPositive: true }).default(DEFAULT_BLOCK_SIZE_BYTES),
    monitor: size('32MiB').default(DEFAULT_MONITOR_BYTES),
    mechanism: oneOf(MECHANISMS, MECHANISMS_NOT_YET).default(DEFAULT_MECHANISM),
    stateDir: absolutePath().default(DEFAULT_STATE_DIR),
    accel: oneOf(['auto', 'kvm', 'tcg'] as const).default(DEFAULT_ACCEL),
    vms: section(vmsSchema),
    heartbeatMs: durationMs(50, 60_000).default(DEFAULT_HEARTBEAT_MS),
    detection: section(detectionSchema),
    faultInjection: flag().default(DEFAULT_IS_FAULT_INJECTION_ALLOWED),
    apps: list(appSchema, 1, MAX_APPS, 'apps'),
    metrics: section(metricsSchema),
  },
  'a mapping of settings',
);

/** The file after validation of each field on its own (sizes in bytes, defaults filled in). */
export type ConfigFile = z.output<typeof configFileSchema>;
