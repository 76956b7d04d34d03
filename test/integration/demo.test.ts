// `baton --json demo`, the main job, end to end on real guests: every acknowledged write readable.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { qemuPidsUnder } from '../helpers/audit.js';

const runDir = mkdtempSync(join(tmpdir(), 'baton-demo-'));

afterAll(() => {
  rmSync(runDir, { recursive: true, force: true });
});

describe('baton demo --guest builtin', () => {
  it('survives an app crash, a crash loop and a guest panic with every acknowledged write readable', async () => {
    const result = await execa(
      'node',
      [join(PACKAGE_ROOT, 'bin', 'baton.js'), '--json', 'demo', '--guest', 'builtin', '--keys', '30'],
      {
        reject: false,
        env: { BATON_RUN_DIR: runDir, BATON_LOG_LEVEL: 'error' },
        timeout: 300_000,
      },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const demo = JSON.parse(result.stdout);
    console.log(
      `[integration] demo: ${demo.writesAcknowledged} acknowledged, ${demo.writesReadable} readable, failovers ${demo.failovers.map((f: { kind: string; totalMs: number }) => `${f.kind} ${f.totalMs} ms`).join(', ')}`,
    );
    expect(demo.accel).toMatch(/^(kvm|tcg)$/);
    expect(demo.writesAcknowledged).toBeGreaterThanOrEqual(30);
    expect(demo.writesReadable).toBe(demo.writesAcknowledged);
    expect(demo.restartsInPlace).toBeGreaterThanOrEqual(1);
    expect(demo.failovers).toEqual([
      expect.objectContaining({ kind: 'app', app: 'kvd', result: 'succeeded', fromVm: 'vm-a', toVm: 'vm-b' }),
      expect.objectContaining({ kind: 'whole-vm', result: 'succeeded', fromVm: 'vm-b', toVm: 'vm-a' }),
    ]);
    expect(demo.tables.map((t: { step: string }) => t.step)).toEqual([
      'start',
      'app crash',
      'crash loop',
      'guest panic',
    ]);
    for (const { table } of demo.tables) {
      const sumBytes = table.areas.reduce((sum: number, a: { sizeBytes: number }) => sum + a.sizeBytes, 0);
      expect(sumBytes).toBe(table.budgetBytes);
    }
    const last = demo.tables.at(-1).table;
    expect(last.areas.find((a: { name: string }) => a.name === 'app:kvd')).toMatchObject({
      user: 'vm-a',
      onFailure: 'vm-b',
      pluggedBytes: 128 * 1024 * 1024,
    });
    // Nothing left behind: no QEMU, and the demo's run directories are gone.
    expect(qemuPidsUnder(runDir)).toEqual([]);
    expect(readdirSync(runDir)).toEqual([]);
  });
});

describe('an interrupted baton demo', () => {
  const BATON = join(PACKAGE_ROOT, 'bin', 'baton.js');
  const env = { BATON_RUN_DIR: runDir, BATON_LOG_LEVEL: 'error' };

  /** Starts the busybox demo and resolves once its pair is up (the QEMUs run). */
  async function startDemo() {
    const child = execa('node', [BATON, 'demo', '--guest', 'builtin', '--keys', '100000'], {
      reject: false,
      env,
      all: true,
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.all?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('pair up in')) resolve();
      });
      child.once('exit', () => reject(new Error(`the demo ended before its pair was up:\n${output}`)));
    });
    expect(qemuPidsUnder(runDir)).toHaveLength(2);
    return { child, output: () => output };
  }

  it('leaves its QEMUs when SIGKILLed; the next run sweeps them and stops its own on SIGINT', async () => {
    const killed = await startDemo();
    const pids = qemuPidsUnder(runDir);
    killed.child.kill('SIGKILL');
    await killed.child;
    expect(qemuPidsUnder(runDir)).toEqual(pids); // QEMUs outlive a SIGKILLed demo ...

    const next = await startDemo(); // ... until the next run sweeps them.
    expect(next.output()).toMatch(/stopped QEMU pid \d+ \(under .*\): left behind by a demo run/);
    expect(next.output()).toContain('removed the abandoned scratch folder');
    expect(qemuPidsUnder(runDir).filter((pid) => pids.includes(pid))).toEqual([]);
    next.child.kill('SIGINT');
    const ended = await next.child;
    expect(ended.signal, next.output()).toBe('SIGINT');
    expect(next.output()).toContain('SIGINT: stopping the guests of this demo run');
    expect(qemuPidsUnder(runDir)).toEqual([]);
    expect(readdirSync(runDir)).toEqual([]);
  }, 400_000);
});
