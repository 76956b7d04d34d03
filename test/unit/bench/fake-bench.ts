// A bench context that records its progress lines, for tests of the measurements with their guests scripted.
import type { BenchContext } from '../../../src/bench/bench-pair.js';
import { createSilentLogger } from '../../../src/log.js';

export function fakeBenchContext(): BenchContext & { lines: string[] } {
  const lines: string[] = [];
  return {
    accel: 'tcg',
    log: createSilentLogger(),
    scratchDir: '/nonexistent/scratch',
    progress: (line) => lines.push(line),
    lines,
  };
}
