// The Debian guest boots through baton's own VM factory (vms.image from boot.json, a root overlay) to a hello with virtio-mem.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { defaultPairConfig, type PairConfig } from '../../src/pair/config.js';
import { bootPairVm } from '../../src/pair/vm-factory.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { MiB } from '../../src/units.js';
import { qemuPidsUnder } from '../helpers/audit.js';
import { hostAccel, test } from '../helpers/vm-fixture.js';

// The Debian guest `make images` builds (images/README.md); BATON_IMAGE_DIR names another images/out.
const imageDir = join(process.env.BATON_IMAGE_DIR ?? join(PACKAGE_ROOT, 'images', 'out'), 'debian');
const isImageThere = existsSync(join(imageDir, 'boot.json'));
if (!isImageThere)
  console.log(`[integration] skipping the Debian guest: ${imageDir}/boot.json is absent (run make images)`);

const scratch = mkdtempSync('/tmp/btd-');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(!isImageThere)('the Debian guest image', () => {
  test('boots from its boot.json on an overlay to the agent hello with virtio-mem', async ({ vms }) => {
    const { accel } = await hostAccel();
    const stateDir = join(scratch, 'state');
    const config: PairConfig = {
      ...defaultPairConfig(stateDir),
      baseBytes: 512 * MiB,
      maxMemoryBytes: 2048 * MiB,
      helloTimeoutMs: 300_000,
      image: { kind: 'disk', diskPath: join(imageDir, 'base.qcow2'), isFirmwareBoot: false },
    };
    const vm = await bootPairVm(config, 'vm-a', 'standby', { accel, log: vms.log });
    vms.track(vm.machine);
    console.log(
      `[integration] ${accel} Debian guest boot to hello: ${Math.round(vm.bootMs)} ms; MemTotal ${Math.round(vm.hello.memTotalBytes / MiB)} MiB; kernel ${vm.hello.kernelRelease ?? '(agent does not say)'}`,
    );
    expect(vm.hello.memTotalBytes).toBeGreaterThan(256 * MiB);
    expect(vm.hello.virtioMem).not.toBe(false);
    expect(vm.machine.spec.imageCmdline).toContain('root=');
    await vm.machine.shutdown();
    expect(qemuPidsUnder(stateDir)).toEqual([]);
  });
});
