import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/errors.js';
import { buildKernelCmdline, buildQemuArgv } from '../../../src/vm/argv.js';
import type { MachineSpec } from '../../../src/vm/spec.js';

const MiB = 1024 * 1024;

const active: MachineSpec = {
  name: 'vm-a',
  role: 'active',
  accel: 'tcg',
  cpus: 1,
  baseMemoryBytes: 256 * MiB,
  maxMemoryBytes: 4096 * MiB,
  slots: [{ id: 'slot0', maxSizeBytes: 1024 * MiB, requestedSizeBytes: 128 * MiB, blockSizeBytes: 2 * MiB }],
  kernelPath: '/img/vmlinuz',
  initrdPath: '/img/initramfs.cpio.gz',
  heartbeatMs: 500,
  runDir: '/run/baton/vm-a',
  tcgTbSizeMiB: 16,
};

const standby: MachineSpec = {
  ...active,
  name: 'vm-b',
  role: 'standby',
  accel: 'kvm',
  baseMemoryBytes: 96 * MiB,
  slots: [{ id: 'slot0', maxSizeBytes: 1024 * MiB, requestedSizeBytes: 0, blockSizeBytes: 2 * MiB }],
  runDir: '/run/baton/vm-b',
};

describe('buildQemuArgv', () => {
  it('builds the exact argv of an active TCG guest with one plugged slot', () => {
    expect(buildQemuArgv(active)).toEqual([
      '-name',
      'vm-a,debug-threads=on',
      '-machine',
      'q35',
      '-accel',
      'tcg,tb-size=16',
      '-cpu',
      'max',
      '-smp',
      '1,maxcpus=2,sockets=2,cores=1,threads=1',
      '-m',
      '256M,maxmem=4096M',
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-sandbox',
      'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
      '-object',
      'memory-backend-ram,id=mem-base,size=256M',
      '-numa',
      'node,nodeid=0,memdev=mem-base',
      '-numa',
      'cpu,node-id=0,socket-id=0',
      '-numa',
      'node,nodeid=1',
      '-numa',
      'cpu,node-id=1,socket-id=1',
      '-object',
      'memory-backend-ram,id=mem-slot0,size=1024M,merge=off,dump=off',
      '-device',
      'virtio-mem-pci,id=vmem-slot0,memdev=mem-slot0,node=1,block-size=2M,requested-size=128M',
      '-device',
      'pvpanic-pci',
      '-action',
      'panic=pause',
      '-action',
      'reboot=shutdown',
      '-chardev',
      'socket,id=qmp,path=/run/baton/vm-a/qmp.sock,server=on,wait=off',
      '-mon',
      'chardev=qmp,mode=control',
      '-device',
      'virtio-serial-pci,id=vser0',
      '-chardev',
      'socket,id=agent,path=/run/baton/vm-a/agent.sock,server=on,wait=off',
      '-device',
      'virtserialport,bus=vser0.0,chardev=agent,name=org.baton.agent.0',
      '-chardev',
      'file,id=serial0,path=/run/baton/vm-a/serial.log',
      '-serial',
      'chardev:serial0',
      '-pidfile',
      '/run/baton/vm-a/qemu.pid',
      '-kernel',
      '/img/vmlinuz',
      '-initrd',
      '/img/initramfs.cpio.gz',
      '-append',
      'console=ttyS0 quiet panic=-1 memhp_default_state=online_movable swiotlb=noforce baton.name=vm-a baton.heartbeat_ms=500',
    ]);
  });

  it('builds a KVM standby with an empty mirror slot', () => {
    const argv = buildQemuArgv(standby);
    expect(argv.slice(4, 8)).toEqual(['-accel', 'kvm', '-cpu', 'host']);
    expect(argv).toContain('96M,maxmem=4096M');
    expect(argv).toContain(
      'virtio-mem-pci,id=vmem-slot0,memdev=mem-slot0,node=1,block-size=2M,requested-size=0M',
    );
    expect(argv.at(-1)).toContain('baton.name=vm-b');
  });

  it('puts each slot on its own memory-less NUMA node', () => {
    const argv = buildQemuArgv({
      ...active,
      slots: [
        { id: 'slot0', maxSizeBytes: 512 * MiB, requestedSizeBytes: 0, blockSizeBytes: 2 * MiB },
        { id: 'slot1', maxSizeBytes: 256 * MiB, requestedSizeBytes: 0, blockSizeBytes: 2 * MiB },
      ],
    });
    expect(argv.filter((a) => a.startsWith('node,nodeid='))).toEqual([
      'node,nodeid=0,memdev=mem-base',
      'node,nodeid=1',
      'node,nodeid=2',
    ]);
    // A possible (not present) CPU on each slot's node makes the guest know the node, so plugged memory lands there.
    expect(argv.filter((a) => a.startsWith('cpu,node-id='))).toEqual([
      'cpu,node-id=0,socket-id=0',
      'cpu,node-id=1,socket-id=1',
      'cpu,node-id=2,socket-id=2',
    ]);
    expect(argv[argv.indexOf('-smp') + 1]).toBe('1,maxcpus=3,sockets=3,cores=1,threads=1');
    expect(argv.filter((a) => a.startsWith('virtio-mem-pci'))).toEqual([
      'virtio-mem-pci,id=vmem-slot0,memdev=mem-slot0,node=1,block-size=2M,requested-size=0M',
      'virtio-mem-pci,id=vmem-slot1,memdev=mem-slot1,node=2,block-size=2M,requested-size=0M',
    ]);
  });

  it('adds spare root ports and restricted user networking with loopback forwards', () => {
    const argv = buildQemuArgv({
      ...active,
      spareRootPorts: 2,
      hostForwards: [
        { hostPort: 17001, guestPort: 7000 },
        { hostPort: 17002, guestPort: 8080 },
      ],
    });
    const at = argv.indexOf(
      '-device',
      argv.indexOf('virtio-mem-pci,id=vmem-slot0,memdev=mem-slot0,node=1,block-size=2M,requested-size=128M'),
    );
    expect(argv.slice(at, at + 8)).toEqual([
      '-device',
      'pcie-root-port,id=rp-spare0,bus=pcie.0,chassis=1',
      '-device',
      'pcie-root-port,id=rp-spare1,bus=pcie.0,chassis=2',
      '-netdev',
      'user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:17001-:7000,hostfwd=tcp:127.0.0.1:17002-:8080',
      '-device',
      'virtio-net-pci,netdev=net0,id=nic0',
    ]);
  });

  it('refuses a port forward outside 1-65535', () => {
    expect(() => buildQemuArgv({ ...active, hostForwards: [{ hostPort: 70000, guestPort: 7000 }] })).toThrow(
      'Invalid port forward for vm-a: expected ports 1-65535, got 70000',
    );
  });

  it('appends extra kernel arguments after the fixed ones', () => {
    expect(buildKernelCmdline({ ...active, extraKernelArgs: ['softlockup_panic=1'] })).toMatch(
      /baton\.heartbeat_ms=500 softlockup_panic=1$/,
    );
  });

  it.each([
    [{ name: 'VM A' }, "Invalid VM name: expected lowercase letters, digits and '-', got 'VM A'"],
    [
      { baseMemoryBytes: 100 * MiB + 1 },
      'Invalid base memory for vm-a: expected a positive whole MiB, got 104857601 bytes',
    ],
    [
      { maxMemoryBytes: 512 * MiB },
      'Invalid maxmem for vm-a: 512 MiB is less than base 256 MiB plus slots 1024 MiB',
    ],
    [
      {
        slots: [
          { id: 'slot0', maxSizeBytes: 1024 * MiB, requestedSizeBytes: 3 * MiB, blockSizeBytes: 2 * MiB },
        ],
      },
      'Invalid requested size for slot slot0: 3145728 bytes is not a whole multiple of the 2 MiB block',
    ],
    [
      {
        slots: [
          { id: 'slot0', maxSizeBytes: 64 * MiB, requestedSizeBytes: 128 * MiB, blockSizeBytes: 2 * MiB },
        ],
      },
      'Invalid requested size for slot slot0: 128 MiB exceeds its maximum 64 MiB',
    ],
    [
      { slots: [{ id: '../x', maxSizeBytes: 64 * MiB, requestedSizeBytes: 0, blockSizeBytes: 2 * MiB }] },
      "Invalid slot id on vm-a: expected 1-16 lowercase letters or digits, got '../x'",
    ],
  ] as const)('refuses %o with a clear message', (change, message) => {
    const spec = { ...active, ...change } as MachineSpec;
    expect(() => buildQemuArgv(spec)).toThrow(InvalidInputError);
    expect(() => buildQemuArgv(spec)).toThrow(message);
  });
});
