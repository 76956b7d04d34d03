import { describe, expect, it } from 'vitest';
import { Timeline } from '../../../src/failover/timeline.js';

describe('Timeline', () => {
  it('records the detect phase and each named phase in order, also when one throws', async () => {
    const timeline = new Timeline({
      kind: 'whole-vm',
      trigger: 'GUEST_PANICKED on vm-a',
      fromVm: 'vm-a',
      toVm: 'vm-b',
      detectedAtMs: performance.now() - 20,
    });
    await timeline.phase('fence', async () => new Promise((r) => setTimeout(r, 10)));
    await expect(timeline.phase('plug', async () => Promise.reject(new Error('stuck')))).rejects.toThrow(
      'stuck',
    );
    const record = timeline.finish('blocked', new Error('stuck'));
    expect(record.phases.map((p) => p.name)).toEqual(['detect', 'fence', 'plug']);
    expect(record.phases[0]?.ms).toBeGreaterThanOrEqual(19);
    expect(record.phases[1]?.ms).toBeGreaterThanOrEqual(9);
    expect(record).toMatchObject({
      result: 'blocked',
      error: 'stuck',
      kind: 'whole-vm',
      fromVm: 'vm-a',
      toVm: 'vm-b',
    });
    expect(record.totalMs).toBeGreaterThanOrEqual(29);
    expect(record.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps recording phases after finish without counting them in the total', async () => {
    const timeline = new Timeline({ kind: 'whole-vm', trigger: 'x', fromVm: 'vm-a', toVm: 'vm-b' });
    const record = timeline.finish('succeeded');
    const total = record.totalMs;
    await timeline.phase('reprotect', async () => new Promise((r) => setTimeout(r, 20)));
    expect(record.phases.map((p) => p.name)).toEqual(['reprotect']);
    expect(record.totalMs).toBe(total);
  });
});
