// The shape of a benchmark report (`bench/results/<date>.json`): one schema, the types come from it.
import { z } from 'zod';

/** The phases the report shows, in order; `route` is what remains of the total (commit, endpoint, client). */
export const BENCH_PHASES = [
  'detect',
  'fence',
  'disk',
  'plug',
  'confirm',
  'start',
  'healthy',
  'route',
] as const;
export type BenchPhase = (typeof BENCH_PHASES)[number];

export const SCENARIOS = ['guest-panic', 'app-crash-loop', 'qemu-killed', 'guest-hang'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

const spread = z.object({
  median: z.number(),
  min: z.number(),
  max: z.number(),
  runs: z.number().int().nonnegative(),
});
const phaseTimes = z.object(
  Object.fromEntries(BENCH_PHASES.map((p) => [p, z.number()])) as Record<BenchPhase, z.ZodNumber>,
);
const phaseSpreads = z.object(
  Object.fromEntries(BENCH_PHASES.map((p) => [p, spread])) as Record<BenchPhase, typeof spread>,
);
const bytes = z.number().int().nonnegative();

const recoveryFigures = z.object({
  scenario: z.enum(SCENARIOS),
  kind: z.enum(['whole-vm', 'app']),
  appSizeBytes: bytes,
  runs: z.array(z.object({ totalMs: z.number(), phasesMs: phaseTimes, trigger: z.string() })),
  totalMs: spread,
  phasesMs: phaseSpreads,
});

const coldRestart = z.object({
  appSizeBytes: bytes,
  runs: z.array(z.object({ totalMs: z.number(), bootMs: z.number(), appMs: z.number() })),
  totalMs: spread,
  bootMs: spread,
  appMs: spread,
});

const footprint = z.object({
  qemuRssBytes: z.record(z.string(), bytes),
  processRssBytes: bytes,
  totalRssBytes: bytes,
  guestGivenBytes: bytes,
});

const sizePoint = z.object({
  appSizeBytes: bytes,
  standbyBaseBytes: bytes,
  totalMs: spread,
  plugMs: spread,
  standbyRssBytes: bytes,
  error: z.string().optional(),
});

const appCountPoint = z.object({
  apps: z.number().int().positive(),
  appSizeBytes: bytes,
  totalMs: spread,
  plugMs: spread,
  error: z.string().optional(),
});

/** Redis in the Debian pair (contrib/examples/redis.yaml): a guest panic against a cold restart of the same VM. */
const realGuest = z.object({
  config: z.string(),
  app: z.string(),
  kernelRelease: z.string().optional(),
  appSizeBytes: bytes,
  /** The distro standby's base memory (vms.baseMemory) and its host RSS while idle. */
  standbyBaseBytes: bytes,
  standbyRssBytes: bytes.optional(),
  recovery: recoveryFigures.optional(),
  coldRestart: coldRestart.optional(),
});

const processLoad = z.object({ rssBytes: bytes, cpuPercent: z.number() });

export const benchReportSchema = z.object({
  schemaVersion: z.literal(1),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  command: z.string(),
  machine: z.object({
    cpus: z.number().int().positive(),
    cpuModel: z.string(),
    memTotalBytes: bytes,
    kernel: z.string(),
    node: z.string(),
    qemu: z.string(),
  }),
  accel: z.object({ accel: z.enum(['kvm', 'tcg']), reason: z.string() }),
  runsPerScenario: z.number().int().positive(),
  scalingRuns: z.number().int().positive(),
  isQuick: z.boolean(),
  recovery: z.array(recoveryFigures),
  coldRestart: coldRestart.optional(),
  memory: z.object({ appSizeBytes: bytes, baton: footprint, staticStandby: footprint }).optional(),
  scaling: z.object({
    bySize: z.array(sizePoint),
    byAppCount: z.array(appCountPoint),
    /** Per standby base memory: its host RSS and the largest app it took over in this run. */
    standbyFootprint: z
      .array(z.object({ standbyBaseBytes: bytes, standbyRssBytes: bytes, largestAppBytes: bytes }))
      .optional(),
  }),
  realGuest: realGuest.optional(),
  overhead: z
    .object({
      windowMs: z.number(),
      idle: processLoad,
      heartbeats: processLoad.extend({ qemuCpuPercent: z.record(z.string(), z.number()) }),
      qmpRoundTripMs: spread.extend({ p99: z.number() }),
    })
    .optional(),
  ratios: z.object({
    recoveryVsColdRestart: z.number().optional(),
    /** The real guest's guest-panic recovery / its cold restart (target ≤ 0.05). */
    realGuestRecoveryVsColdRestart: z.number().optional(),
    pairRssVsStaticStandby: z.number().optional(),
    pairGivenVsStaticStandby: z.number().optional(),
    recoveryGrowth: z
      .object({ fromBytes: bytes, toBytes: bytes, fromMs: z.number(), toMs: z.number(), factor: z.number() })
      .optional(),
  }),
  errors: z.array(z.object({ section: z.string(), message: z.string() })),
});

export type BenchReport = z.infer<typeof benchReportSchema>;
export type RecoveryFigures = z.infer<typeof recoveryFigures>;
export type RecoveryRun = RecoveryFigures['runs'][number];
export type ColdRestartFigures = z.infer<typeof coldRestart>;
export type RealGuestFigures = z.infer<typeof realGuest>;
export type MemoryFootprint = z.infer<typeof footprint>;
export type SizeScalingPoint = z.infer<typeof sizePoint>;
export type AppCountPoint = z.infer<typeof appCountPoint>;
export type Overhead = NonNullable<BenchReport['overhead']>;
export type PhaseTimes = Record<BenchPhase, number>;

/** Every way `value` is not a report: `path: message` lines (empty when it is one). */
export function findReportProblems(value: unknown): string[] {
  const parsed = benchReportSchema.safeParse(value);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}
