// The sections of `baton bench`, apart from the runner so the CLI can list them without loading it.
export const BENCH_SECTIONS = [
  'recovery',
  'baselines',
  'real-guest',
  'scaling-size',
  'scaling-apps',
] as const;
export type BenchSection = (typeof BENCH_SECTIONS)[number];
