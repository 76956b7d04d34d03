// The report's headline ratios: recovery against a cold restart (built-in and real guest), the pair's memory against a static
// full-size standby, and how whole-VM recovery grows with the app's memory.
import type { BenchReport } from './report.js';
import { ratioOf } from './stats.js';

/** Computes every ratio the report's figures allow; a missing figure leaves its ratio out. */
export function computeRatios(report: Omit<BenchReport, 'ratios'>): BenchReport['ratios'] {
  const ratios: BenchReport['ratios'] = {};
  const panic = report.recovery.find((r) => r.scenario === 'guest-panic');
  const cold = report.coldRestart;
  if (panic !== undefined && cold !== undefined && panic.totalMs.runs > 0) {
    const ratio = ratioOf(panic.totalMs.median, cold.totalMs.median);
    if (ratio !== undefined) ratios.recoveryVsColdRestart = ratio;
  }
  const real = report.realGuest;
  if (real?.recovery !== undefined && real.coldRestart !== undefined && real.recovery.totalMs.runs > 0) {
    const ratio = ratioOf(real.recovery.totalMs.median, real.coldRestart.totalMs.median);
    if (ratio !== undefined) ratios.realGuestRecoveryVsColdRestart = ratio;
  }
  const memory = report.memory;
  if (memory !== undefined) {
    const rss = ratioOf(memory.baton.totalRssBytes, memory.staticStandby.totalRssBytes);
    const given = ratioOf(memory.baton.guestGivenBytes, memory.staticStandby.guestGivenBytes);
    if (rss !== undefined) ratios.pairRssVsStaticStandby = rss;
    if (given !== undefined) ratios.pairGivenVsStaticStandby = given;
  }
  const sizes = report.scaling.bySize
    .filter((p) => p.error === undefined && p.totalMs.runs > 0)
    .sort((a, b) => a.appSizeBytes - b.appSizeBytes);
  const smallest = sizes[0];
  const largest = sizes.at(-1);
  if (smallest !== undefined && largest !== undefined && largest !== smallest) {
    const factor = ratioOf(largest.totalMs.median, smallest.totalMs.median);
    if (factor !== undefined)
      ratios.recoveryGrowth = {
        fromBytes: smallest.appSizeBytes,
        toBytes: largest.appSizeBytes,
        fromMs: smallest.totalMs.median,
        toMs: largest.totalMs.median,
        factor,
      };
  }
  return ratios;
}

/** For each standby base memory measured: its host RSS and the largest app it took over (a failed size does not count). */
export function computeStandbyFootprints(
  bySize: BenchReport['scaling']['bySize'],
): NonNullable<BenchReport['scaling']['standbyFootprint']> {
  const byBase = new Map<
    number,
    { standbyBaseBytes: number; standbyRssBytes: number; largestAppBytes: number }
  >();
  for (const point of bySize) {
    if (point.error !== undefined) continue;
    const seen = byBase.get(point.standbyBaseBytes);
    if (seen === undefined || point.appSizeBytes > seen.largestAppBytes)
      byBase.set(point.standbyBaseBytes, {
        standbyBaseBytes: point.standbyBaseBytes,
        standbyRssBytes: point.standbyRssBytes,
        largestAppBytes: point.appSizeBytes,
      });
  }
  return [...byBase.values()].sort((a, b) => a.standbyBaseBytes - b.standbyBaseBytes);
}

/**
 * The memory given to the guests for one app of `appBytes` on guests of `baseBytes`: baton's pair
 * (two bases and the app once) against a static full-size standby (the app twice), and their ratio.
 */
export function givenMemoryOf(
  baseBytes: number,
  appBytes: number,
): { pairBytes: number; staticBytes: number; ratio: number | undefined } {
  const pairBytes = 2 * baseBytes + appBytes;
  const staticBytes = 2 * (baseBytes + appBytes);
  return { pairBytes, staticBytes, ratio: ratioOf(pairBytes, staticBytes) };
}
