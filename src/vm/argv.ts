// Pure: turns a MachineSpec into QEMU's argv (no shell, no I/O). Golden-tested.
import { InvalidInputError } from '../errors.js';
import { MiB, toMiB } from '../units.js';
import { rootDiskArgv } from './argv-root-disk.js';
import { AGENT_PORT_NAME, type MachineSpec, runPathsOf, spareRootPortId } from './spec.js';

export const QEMU_BINARY = 'qemu-system-x86_64';

/**
 * The kernel command line: the image's own arguments (a disk image's `root=...`), then baton's:
 * console on the serial port, hot-plugged memory onlined movable, the agent's settings.
 */
export function buildKernelCmdline(spec: MachineSpec): string {
  return [
    ...(spec.imageCmdline === undefined || spec.imageCmdline === '' ? [] : [spec.imageCmdline]),
    'console=ttyS0',
    'quiet',
    'panic=-1',
    'memhp_default_state=online_movable',
    'swiotlb=noforce',
    `baton.name=${spec.name}`,
    `baton.heartbeat_ms=${spec.heartbeatMs}`,
    ...(spec.extraKernelArgs ?? []),
  ].join(' ');
}

/**
 * Builds the argv (without the binary) for one VM: q35, base memory on guest node 0, one
 * memory-less node plus virtio-mem device per slot, pvpanic, the agent port, QMP and a serial
 * log in the run directory. Throws InvalidInputError on sizes QEMU would reject.
 */
export function buildQemuArgv(spec: MachineSpec): string[] {
  validateSpec(spec);
  const paths = runPathsOf(spec.runDir);
  const argv = [
    '-name',
    `${spec.name},debug-threads=on`,
    '-machine',
    'q35',
    ...(spec.accel === 'kvm'
      ? ['-accel', 'kvm', '-cpu', 'host']
      : ['-accel', `tcg,tb-size=${spec.tcgTbSizeMiB}`, '-cpu', 'max']),
    '-smp',
    spec.slots.length === 0
      ? String(spec.cpus)
      : `${spec.cpus},maxcpus=${spec.cpus + spec.slots.length},sockets=${spec.cpus + spec.slots.length},cores=1,threads=1`,
    '-m',
    `${toMiB(spec.baseMemoryBytes)}M,maxmem=${toMiB(spec.maxMemoryBytes)}M`,
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-sandbox',
    'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
    '-object',
    `memory-backend-ram,id=mem-base,size=${toMiB(spec.baseMemoryBytes)}M`,
    '-numa',
    'node,nodeid=0,memdev=mem-base',
  ];
  for (let cpu = 0; cpu < spec.cpus; cpu += 1) argv.push('-numa', `cpu,node-id=0,socket-id=${cpu}`);
  spec.slots.forEach((slot, index) => {
    const node = index + 1;
    argv.push(
      '-numa',
      `node,nodeid=${node}`,
      '-numa',
      `cpu,node-id=${node},socket-id=${spec.cpus + index}`,
      '-object',
      `memory-backend-ram,id=mem-${slot.id},size=${toMiB(slot.maxSizeBytes)}M,merge=off,dump=off`,
      '-device',
      `virtio-mem-pci,id=vmem-${slot.id},memdev=mem-${slot.id},node=${node},block-size=${toMiB(slot.blockSizeBytes)}M,requested-size=${toMiB(slot.requestedSizeBytes)}M`,
    );
  });
  for (let index = 0; index < (spec.spareRootPorts ?? 0); index += 1) {
    argv.push('-device', `pcie-root-port,id=${spareRootPortId(index)},bus=pcie.0,chassis=${index + 1}`);
  }
  if (spec.hostForwards !== undefined) {
    const forwards = spec.hostForwards
      .map((f) => `,hostfwd=tcp:127.0.0.1:${f.hostPort}-:${f.guestPort}`)
      .join('');
    argv.push(
      '-netdev',
      `user,id=net0,restrict=on${forwards}`,
      '-device',
      'virtio-net-pci,netdev=net0,id=nic0',
    );
  }
  argv.push(
    '-device',
    'pvpanic-pci',
    '-action',
    'panic=pause',
    '-action',
    'reboot=shutdown',
    '-chardev',
    `socket,id=qmp,path=${paths.qmpSocket},server=on,wait=off`,
    '-mon',
    'chardev=qmp,mode=control',
    '-device',
    'virtio-serial-pci,id=vser0',
    '-chardev',
    `socket,id=agent,path=${paths.agentSocket},server=on,wait=off`,
    '-device',
    `virtserialport,bus=vser0.0,chardev=agent,name=${AGENT_PORT_NAME}`,
    '-chardev',
    `file,id=serial0,path=${paths.serialLog}`,
    '-serial',
    'chardev:serial0',
    '-pidfile',
    paths.pidFile,
  );
  if (spec.rootDisk !== undefined)
    argv.push(...rootDiskArgv(spec.rootDisk, { isBootDevice: spec.kernelPath === undefined }));
  if (spec.kernelPath !== undefined) {
    argv.push('-kernel', spec.kernelPath);
    if (spec.initrdPath !== undefined) argv.push('-initrd', spec.initrdPath);
    argv.push('-append', buildKernelCmdline(spec));
  }
  return argv;
}

function validateSpec(spec: MachineSpec): void {
  if (spec.kernelPath === undefined && spec.rootDisk === undefined) {
    throw new InvalidInputError(`Nothing to boot for ${spec.name}: no kernel and no root disk`);
  }
  if (spec.kernelPath === undefined && (spec.initrdPath !== undefined || spec.imageCmdline !== undefined)) {
    throw new InvalidInputError(
      `Invalid boot for ${spec.name}: an initrd or kernel arguments without a kernel`,
    );
  }
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(spec.name)) {
    throw new InvalidInputError(
      `Invalid VM name: expected lowercase letters, digits and '-', got '${spec.name}'`,
    );
  }
  if (spec.baseMemoryBytes % MiB !== 0 || spec.baseMemoryBytes <= 0) {
    throw new InvalidInputError(
      `Invalid base memory for ${spec.name}: expected a positive whole MiB, got ${spec.baseMemoryBytes} bytes`,
    );
  }
  const slotsBytes = spec.slots.reduce((sum, slot) => sum + slot.maxSizeBytes, 0);
  if (spec.maxMemoryBytes < spec.baseMemoryBytes + slotsBytes) {
    throw new InvalidInputError(
      `Invalid maxmem for ${spec.name}: ${toMiB(spec.maxMemoryBytes)} MiB is less than base ${toMiB(spec.baseMemoryBytes)} MiB plus slots ${toMiB(slotsBytes)} MiB`,
    );
  }
  for (const forward of spec.hostForwards ?? []) {
    for (const port of [forward.hostPort, forward.guestPort]) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new InvalidInputError(
          `Invalid port forward for ${spec.name}: expected ports 1-65535, got ${port}`,
        );
      }
    }
  }
  for (const slot of spec.slots) {
    if (!/^[a-z0-9]{1,16}$/.test(slot.id)) {
      throw new InvalidInputError(
        `Invalid slot id on ${spec.name}: expected 1-16 lowercase letters or digits, got '${slot.id}'`,
      );
    }
    if (slot.blockSizeBytes < 2 * MiB || slot.blockSizeBytes % MiB !== 0) {
      throw new InvalidInputError(
        `Invalid block size for slot ${slot.id}: expected a whole MiB of at least 2 MiB, got ${slot.blockSizeBytes} bytes`,
      );
    }
    for (const [what, bytes] of [
      ['maximum size', slot.maxSizeBytes],
      ['requested size', slot.requestedSizeBytes],
    ] as const) {
      if (bytes < 0 || bytes % slot.blockSizeBytes !== 0) {
        throw new InvalidInputError(
          `Invalid ${what} for slot ${slot.id}: ${bytes} bytes is not a whole multiple of the ${toMiB(slot.blockSizeBytes)} MiB block`,
        );
      }
    }
    if (slot.requestedSizeBytes > slot.maxSizeBytes) {
      throw new InvalidInputError(
        `Invalid requested size for slot ${slot.id}: ${toMiB(slot.requestedSizeBytes)} MiB exceeds its maximum ${toMiB(slot.maxSizeBytes)} MiB`,
      );
    }
  }
}
