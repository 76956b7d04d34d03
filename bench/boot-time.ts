// Boots one guest N times (default 5) and reports time from QEMU spawn to the agent's hello.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/log.js';
import { defaultImagePaths, PACKAGE_ROOT } from '../src/paths.js';
import { MiB } from '../src/units.js';
import { bootGuest } from '../src/vm/boot.js';
import { defaultPairSpecs } from '../src/vm/defaults.js';
import { resolveAccel } from '../src/vm/host-accel.js';
import { openForTraversal } from '../src/vm/qemu-user.js';

const runs = Number(process.argv[2] ?? 5);
const decision = await resolveAccel('auto');
console.log(`accelerator: ${decision.accel} (${decision.reason})`);
const [, standby] = defaultPairSpecs(decision.accel);
if (standby === undefined) throw new Error('no standby spec');
const runParent = mkdtempSync(join(tmpdir(), 'baton-bench-'));
openForTraversal(runParent); // QEMU's own user passes through to its run directory, as in the pair.
const log = createLogger({ level: 'warn' });
const bootMs: number[] = [];
for (let i = 1; i <= runs; i += 1) {
  const guest = await bootGuest(standby, { runParent, log });
  bootMs.push(guest.bootMs);
  console.log(
    `run ${i}/${runs}: boot to hello ${Math.round(guest.bootMs)} ms (guest uptime ${guest.hello.uptimeMs} ms)`,
  );
  await guest.machine.shutdown();
}
rmSync(runParent, { recursive: true, force: true });
const sorted = [...bootMs].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
const image = defaultImagePaths();
console.log(
  JSON.stringify({
    accel: decision.accel,
    runs,
    baseMiB: standby.baseMemoryBytes / MiB,
    bootToHelloMs: {
      median: Math.round(median),
      min: Math.round(sorted[0] ?? 0),
      max: Math.round(sorted.at(-1) ?? 0),
    },
    initramfsBytes: statSync(image.initrdPath).size,
    kernelBytes: statSync(image.kernelPath).size,
    agentBytes: statSync(join(PACKAGE_ROOT, 'guest-agent/out/baton-agent')).size,
  }),
);
