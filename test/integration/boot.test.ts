import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { AgentError, GuestUnsupportedError, WaitTimeoutError } from '../../src/errors.js';
import { queryMemoryDevices, queryMemorySizeSummary, queryStatus } from '../../src/qmp/commands.js';
import { MiB } from '../../src/units.js';
import { DEFAULT_QEMU_USER, lookUpUser, readProcessIds } from '../../src/vm/qemu-user.js';
import { hostAccel, smallGuestSpec, test } from '../helpers/vm-fixture.js';

/** QEMU processes whose command line mentions `needle` (scanned from /proc, not from our records). */
function qemuProcessesMentioning(needle: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmdline.startsWith('qemu-system') || cmdline.includes('/qemu-system')
          ? cmdline.includes(needle)
          : false;
      } catch {
        return false; // The process exited while we looked.
      }
    })
    .map(Number);
}

describe('one real guest', () => {
  test('boots to the agent hello, heartbeats, agrees with QMP on memory, and leaves nothing behind', async ({
    vms,
  }) => {
    const accel = await hostAccel();
    const spec = await smallGuestSpec('vm-it');
    const { machine, hello, bootMs } = await vms.boot(spec);
    console.log(
      `[integration] ${accel.accel} boot to hello: ${Math.round(bootMs)} ms; MemTotal ${hello.memTotalBytes / MiB} MiB`,
    );

    // QEMU never held root: as root with QEMU's user present, the process runs as that user.
    const ids = readProcessIds(machine.pid);
    const qemuUser = process.getuid?.() === 0 ? lookUpUser(DEFAULT_QEMU_USER) : undefined;
    expect(ids?.uid).toBe(qemuUser?.uid ?? process.getuid?.());
    expect(statSync(machine.spec.runDir)).toMatchObject({ uid: ids?.uid, mode: expect.any(Number) });
    expect(statSync(machine.spec.runDir).mode & 0o077).toBe(0);

    // The guest's view (hello, agent) and the host's view (QMP) of the same memory.
    const summary = await queryMemorySizeSummary(machine.qmp);
    expect(summary).toEqual({ baseMemoryBytes: 128 * MiB, pluggedMemoryBytes: 0 });
    expect(hello.memTotalBytes).toBeLessThanOrEqual(summary.baseMemoryBytes);
    expect(hello.memTotalBytes).toBeGreaterThan(summary.baseMemoryBytes / 2);
    // Node 1 (the slot's memory-less node) stays offline in the guest until memory is plugged into it.
    expect(hello.numaNodes.map((n) => n.id)).toEqual([0]);
    expect(hello.numaNodes[0]?.memTotalBytes).toBe(hello.memTotalBytes);
    expect(hello.heartbeatMs).toBe(200);
    const devices = await queryMemoryDevices(machine.qmp);
    expect(devices).toEqual([
      expect.objectContaining({
        kind: 'virtio-mem',
        id: 'vmem-slot0',
        node: 1,
        sizeBytes: 0,
        requestedSizeBytes: 0,
        maxSizeBytes: 512 * MiB,
      }),
    ]);
    const status = await machine.agent.memStatus(5000);
    expect(status.memTotalBytes).toBe(hello.memTotalBytes);
    expect(status.memFreeBytes).toBeLessThan(status.memTotalBytes);

    // Heartbeats keep coming, each one more than the last.
    const seen: number[] = [];
    machine.agent.on('heartbeat', (beat) => seen.push(beat.seq));
    const start = machine.agent.lastHeartbeat?.seq ?? 0;
    await machine.agent.waitForHeartbeat(start + 3, 10_000);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.every((seq, i) => i === 0 || seq === (seen[i - 1] ?? 0) + 1)).toBe(true);

    // The agent proves it is alive now, and refuses an invalid request without breaking.
    await machine.agent.sync('it-nonce-1', 5000);
    const refused = await machine.agent.request('no.such.request', {}, 5000).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AgentError);
    expect(refused).toMatchObject({ agentCode: 'unknown-type', vm: 'vm-it' });
    await machine.agent.sync('it-nonce-2', 5000);
    expect(await queryStatus(machine.qmp)).toEqual({ isRunning: true, runState: 'running' });
    expect(machine.agent.refusedCount).toBe(0);

    // quit: QEMU exits by itself, and no process, socket or run directory remains.
    const { how } = await machine.shutdown();
    expect(how).toBe('quit');
    expect(existsSync(`/proc/${machine.pid}`)).toBe(false);
    expect(existsSync(machine.spec.runDir)).toBe(false);
    expect(existsSync(machine.paths.qmpSocket)).toBe(false);
    expect(qemuProcessesMentioning(machine.spec.runDir)).toEqual([]);
  });

  test('fails the boot with a deadline error naming the serial console when no agent says hello', async ({
    vms,
  }) => {
    // rdinit=/bin/sh: the guest boots to a shell and never starts the agent.
    const spec = await smallGuestSpec('vm-mute', { extraKernelArgs: ['rdinit=/bin/sh'] });
    const error = await vms.boot(spec, 4000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^Timed out after 4000 ms waiting for hello from the guest agent on vm-mute; see the serial console at \/.+\/vm-mute-\w+\/serial\.log; a guest image needs the guest agent: install the baton-agent package in it \(README, "Installing the agent in your own guest"\)$/,
    );
    const serialLog = /at (\/\S+serial\.log);/.exec(message)?.[1] ?? '';
    expect(existsSync(serialLog)).toBe(true);
    expect(qemuProcessesMentioning('vm-mute')).toEqual([]);
  });

  test('refuses a guest whose kernel has no virtio-mem driver, naming the kernel release, and stops its QEMU', async ({
    vms,
  }) => {
    // module_blacklist: the guest's init cannot load virtio_mem, so the agent finds no driver.
    const spec = await smallGuestSpec('vm-nomem', { extraKernelArgs: ['module_blacklist=virtio_mem'] });
    const error = await vms.boot(spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestUnsupportedError);
    const { kernelRelease } = error as GuestUnsupportedError;
    expect(kernelRelease).toMatch(/^\d+\.\d+\.\d+-.*cloud-amd64$/);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^Refusing vm-nomem: its kernel ${kernelRelease.replaceAll('.', '\\.')} has no virtio-mem driver \\(the virtio_mem module;`,
      ),
    );
    expect(qemuProcessesMentioning('vm-nomem')).toEqual([]);
  });
});
