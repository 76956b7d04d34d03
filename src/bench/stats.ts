// Summary statistics of repeated measurements: median and spread (min, max), the figures the report shows.

/** The median and the spread of a set of runs; `runs` is how many values it summarises. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** Median (mean of the two middle values for an even count), min and max, rounded to 0.1. */
export function summarize(values: readonly number[]): Spread {
  if (values.length === 0) return { median: 0, min: 0, max: 0, runs: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return {
    median: roundTenth(median),
    min: roundTenth(sorted[0] ?? 0),
    max: roundTenth(sorted.at(-1) ?? 0),
    runs: values.length,
  };
}

/** The value at quantile `q` (0..1) by nearest rank: 0.99 of 200 values is the 198th. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return roundTenth(sorted[rank - 1] ?? 0);
}

/** `numerator / denominator` with two decimals; undefined when the denominator is 0. */
export function ratioOf(numerator: number, denominator: number): number | undefined {
  if (denominator === 0) return undefined;
  return Math.round((numerator / denominator) * 100) / 100;
}

export function roundTenth(value: number): number {
  return Math.round(value * 10) / 10;
}

/** The item whose value is the median (the lower of the two middle ones for an even count). */
export function pickMedianItem<T>(items: readonly T[], measureOf: (item: T) => number): T | undefined {
  const sorted = [...items].sort((a, b) => measureOf(a) - measureOf(b));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}
