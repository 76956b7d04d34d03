import { describe, expect, it } from 'vitest';
import type { Hello } from '../../../src/agent/protocol.js';
import { GuestUnsupportedError } from '../../../src/errors.js';
import { refuseUnsupported } from '../../../src/vm/boot.js';
import { HELLO as HELLO_FIELDS } from '../../fakes/agent-peer.js';

const HELLO = HELLO_FIELDS as Hello;

describe('refuseUnsupported', () => {
  it('takes a guest with virtio-mem, and one whose older agent does not say', () => {
    expect(() =>
      refuseUnsupported('vm-a', { ...HELLO, kernelRelease: '6.1.0-28-cloud-amd64', virtioMem: true }),
    ).not.toThrow();
    expect(() => refuseUnsupported('vm-a', HELLO)).not.toThrow();
  });

  it('refuses a kernel without virtio-mem, naming its release and the missing driver', () => {
    const error = (() => {
      try {
        refuseUnsupported('vm-b', { ...HELLO, kernelRelease: '5.10.0-custom', virtioMem: false });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(GuestUnsupportedError);
    expect(error).toMatchObject({ code: 'GUEST_UNSUPPORTED', vm: 'vm-b', kernelRelease: '5.10.0-custom' });
    expect((error as Error).message).toBe(
      "Refusing vm-b: its kernel 5.10.0-custom has no virtio-mem driver (the virtio_mem module; /sys/bus/virtio/drivers/virtio_mem is missing), and baton moves memory with virtio-mem: use a kernel with CONFIG_VIRTIO_MEM (Debian's linux-image-cloud-amd64 has it) or load the module before the agent starts",
    );
  });

  it('says unknown when the agent could not read the release', () => {
    expect(() => refuseUnsupported('vm-b', { ...HELLO, kernelRelease: '', virtioMem: false })).toThrow(
      /^Refusing vm-b: its kernel unknown has no virtio-mem driver/,
    );
  });
});
