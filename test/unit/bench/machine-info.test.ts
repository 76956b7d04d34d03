import { cpus, release, totalmem } from 'node:os';
import { execa } from 'execa';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readMachineInfo } from '../../../src/bench/machine-info.js';
import { resolveQemuBinary } from '../../../src/vm/machine.js';

vi.mock('execa', () => ({ execa: vi.fn() }));
vi.mock('../../../src/vm/machine.js', () => ({
  resolveQemuBinary: vi.fn(() => '/usr/bin/qemu-system-x86_64'),
}));
const run = vi.mocked(execa) as unknown as ReturnType<typeof vi.fn>;

afterEach(() => {
  vi.clearAllMocks();
});

describe('readMachineInfo', () => {
  it("reads the host's facts and QEMU's version line without its package suffix", async () => {
    run.mockResolvedValue({
      stdout:
        'QEMU emulator version 7.2.13 (Debian 1:7.2+dfsg-7+deb12u7)\nCopyright (c) 2003-2022 Fabrice Bellard',
    });
    const info = await readMachineInfo();
    expect(run).toHaveBeenCalledWith('/usr/bin/qemu-system-x86_64', ['--version']);
    expect(vi.mocked(resolveQemuBinary)).toHaveBeenCalled();
    expect(info).toEqual({
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim(),
      memTotalBytes: totalmem(),
      kernel: release(),
      node: process.versions.node,
      qemu: 'QEMU emulator version 7.2.13',
    });
  });

  it('reports QEMU as unknown when it cannot be run', async () => {
    run.mockRejectedValue(Object.assign(new Error('spawn ENOENT'), { code: 'ENOENT' }));
    expect((await readMachineInfo()).qemu).toBe('QEMU unknown');
  });

  it('reports QEMU as unknown when no QEMU binary is found', async () => {
    vi.mocked(resolveQemuBinary).mockImplementationOnce(() => {
      throw new Error('qemu-system-x86_64 not found on PATH');
    });
    expect((await readMachineInfo()).qemu).toBe('QEMU unknown');
    expect(run).not.toHaveBeenCalled();
  });
});
