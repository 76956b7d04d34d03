// Parses and prints memory sizes (`512MiB`, `2GiB`) and durations; every quantity carries its unit.
import { InvalidInputError } from './errors.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: KiB,
  kib: KiB,
  m: MiB,
  mib: MiB,
  g: GiB,
  gib: GiB,
};

/** Parses `512MiB`, `2G`, `1048576` into bytes. Throws InvalidInputError on anything else. */
export function parseSizeBytes(text: string): number {
  const match = /^\s*(\d+)\s*([A-Za-z]*)\s*$/.exec(text);
  const unit = match?.[2]?.toLowerCase();
  const factor = unit === undefined ? undefined : SIZE_UNITS[unit];
  if (match === null || match[1] === undefined || factor === undefined) {
    throw new InvalidInputError(
      `Invalid size: expected a whole number with an optional unit (B, KiB, MiB, GiB), got '${text}'`,
    );
  }
  const bytes = Number(match[1]) * factor;
  if (!Number.isSafeInteger(bytes)) {
    throw new InvalidInputError(`Invalid size: '${text}' is too large`);
  }
  return bytes;
}

/** Prints bytes for people: whole GiB as `2 GiB`, else MiB with at most one decimal. */
export function formatBytes(bytes: number): string {
  if (bytes !== 0 && bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= KiB) return `${(bytes / KiB).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** Bytes to whole MiB (rounded down), for QEMU options that take MiB. */
export function toMiB(bytes: number): number {
  return Math.floor(bytes / MiB);
}

/** True when `bytes` is a whole multiple of `blockBytes`. */
export function isAligned(bytes: number, blockBytes: number): boolean {
  return bytes % blockBytes === 0;
}

/** Prints a duration for people: `850 ms`, `4.2 s`. */
export function formatMs(durationMs: number): string {
  if (durationMs < 1000) return `${Math.round(durationMs)} ms`;
  return `${(durationMs / 1000).toFixed(1)} s`;
}
