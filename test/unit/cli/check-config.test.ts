import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeImage, runCheckConfig } from '../../../src/cli/check-config.js';
import { configWith, fileWith } from '../config/fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-check-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function check(path: string, json = false) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCheckConfig(path, {
    json,
    print: (line) => out.push(line),
    printError: (line) => err.push(line),
  });
  return { code, out, err };
}

describe('baton check-config', () => {
  it('summarises a valid config and exits 0', async () => {
    expect(await check('contrib/baton.yaml')).toEqual({
      code: 0,
      out: [
        'contrib/baton.yaml: valid',
        'budget     736 MiB: 2 × 96 MiB VM base + 32 MiB monitor + 160 MiB apps + 352 MiB free pool',
        'memory     virtio-mem, 2 MiB blocks',
        'VMs        vm-a (starts active), vm-b: 96 MiB base, maxmem 2 GiB, 1 CPU each',
        "image      builtin (baton's kernel and busybox initramfs)",
        'accel      auto',
        'state dir  /var/lib/baton',
        'detection  heartbeat 500 ms, hang suspected after 3000 ms of silence, sync 1000 ms',
        'faults     fault injection allowed',
        'metrics    off',
        '',
        'APP    RUNS       HEALTH  SLOT   MEMORY   SLOT MAX  HOT STANDBY  GUEST PORT  ENDPOINT  DATA DISK',
        'kvd    /apps/kvd  line    slot0  128 MiB  512 MiB   yes                7000  any       64 MiB at /data/kvd',
        'cache  /apps/kvd  line    slot1  32 MiB   128 MiB   no                 7001  any       -',
      ],
      err: [],
    });
  });

  it('prints every problem to stderr and exits 2', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(path, fileWith({ budget: '100MiB', 'apps.0.helth': {} }));
    expect(await check(path)).toEqual({
      code: 2,
      out: [],
      err: [`${path}: apps[0].helth: unknown key (did you mean 'health'?)`],
    });
  });

  it('reports cross-field problems of a file whose fields are each valid', async () => {
    const path = join(dir, 'small-budget.yaml');
    await writeFile(path, fileWith({ budget: '100MiB' }));
    const { code, err } = await check(path);
    expect(code).toBe(2);
    expect(err).toEqual([
      `${path}: budget: expected at least 352 MiB (2 × vms.baseMemory 96 MiB + monitor 32 MiB + the apps' memory 128 MiB), got 100 MiB`,
    ]);
  });

  it('exits 2 with one line for a missing file', async () => {
    const path = join(dir, 'missing.yaml');
    expect(await check(path)).toEqual({
      code: 2,
      out: [],
      err: [`cannot read config ${path}: ENOENT: no such file or directory`],
    });
  });

  it('prints the validated config as JSON', async () => {
    const { code, out } = await check('contrib/baton.yaml', true);
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    const report = JSON.parse(out[0] ?? '');
    expect(report).toMatchObject({
      file: 'contrib/baton.yaml',
      valid: true,
      config: { budgetBytes: 736 * 1048576 },
    });
  });

  it('prints the problems as JSON too, and to stderr', async () => {
    const path = join(dir, 'bad-json.yaml');
    await writeFile(path, 'budget: 12XB\n');
    const { code, out, err } = await check(path, true);
    expect(code).toBe(2);
    expect(JSON.parse(out[0] ?? '')).toEqual({
      file: path,
      valid: false,
      problems: err,
      error: { code: 'INVALID_CONFIG', message: err.join('\n') },
    });
    expect(err).toEqual([
      `${path}: budget: expected a size like 736MiB, got '12XB'`,
      `${path}: apps: expected a list of 1 to 8 apps, got nothing`,
    ]);
  });
});

describe('describeImage', () => {
  it.each([
    [{}, "builtin (baton's kernel and busybox initramfs)"],
    [
      { 'vms.image': { disk: '/img/base.qcow2' } },
      '/img/base.qcow2, kernel, initrd and cmdline from boot.json beside it',
    ],
    [
      { 'vms.image': { disk: '/img/base.qcow2', kernel: '/k', initrd: '/i', cmdline: 'ro' } },
      "/img/base.qcow2, kernel /k, initrd /i, cmdline 'ro'",
    ],
    [{ 'vms.image': { disk: '/img/base.qcow2', kernel: '/k' } }, '/img/base.qcow2, kernel /k, no initrd'],
    [
      { 'vms.image': { disk: '/img/cloud.raw', firmware: true } },
      "/img/cloud.raw, firmware boot (the image's own bootloader)",
    ],
  ])('describes %o', (edits, text) => {
    expect(describeImage(configWith(edits))).toBe(text);
  });
});
