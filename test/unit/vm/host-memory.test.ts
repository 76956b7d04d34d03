import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readRssBytes } from '../../../src/vm/host-memory.js';

describe('a process’s resident memory', () => {
  it('reads VmRSS of a live process in bytes, as a whole number of KiB', async () => {
    const rssBytes = await readRssBytes(process.pid);
    expect(rssBytes).toBeGreaterThan(1024 * 1024);
    expect((rssBytes ?? 0) % 1024).toBe(0);
    // The same figure Node reports, give or take what changed between the two reads.
    expect(Math.abs((rssBytes ?? 0) - process.memoryUsage().rss)).toBeLessThan(64 * 1024 * 1024);
  });

  it('is undefined for a process that is gone', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid ?? 0;
    await expect(readRssBytes(gone)).resolves.toBeUndefined();
  });
});
