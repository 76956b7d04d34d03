import { describe, expect, it } from 'vitest';
import { jsonDepth, memStatusSchema, parseGuestMessage } from '../../../src/agent/protocol.js';
import { HELLO } from '../../fakes/agent-peer.js';

describe('parseGuestMessage', () => {
  it('accepts a well-formed hello, heartbeat, reply and error', () => {
    for (const message of [
      HELLO,
      { type: 'heartbeat', seq: 1, uptimeMs: 10 },
      { type: 'reply', id: 4, ok: true, result: { nonce: 'abc' } },
      { type: 'reply', id: 5, ok: false, error: { code: 'bad-request', message: 'nonce missing' } },
      { type: 'error', code: 'bad-json', message: 'unparseable' },
      { type: 'app.exited', name: 'kvd', pid: 311, code: null, signal: 9 },
      { type: 'app.exited', name: 'kvd', pid: 311, code: null, signal: 11, severity: 'crashed' },
      { type: 'app.ready', name: 'kvd', pid: 311 },
      { type: 'mem.request', app: 'kvd', bytes: 33554432 },
      { ...HELLO, kernelRelease: '6.1.0-28-cloud-amd64', virtioMem: true },
      { ...HELLO, kernelRelease: '', virtioMem: false },
    ]) {
      expect(parseGuestMessage(message)).toEqual({ ok: true, message });
    }
  });

  it.each([
    ['a hello missing its fields', { type: 'hello' }, 'agentVersion'],
    ['a hello naming a VM', { ...HELLO, vm: 'vm-b' }, 'vm'],
    ['a negative size', { ...HELLO, memTotalBytes: -1 }, 'memTotalBytes'],
    ['a boot id shaped like a path', { ...HELLO, bootId: '../../etc/passwd' }, 'bootId'],
    ['a kernel release with a newline', { ...HELLO, kernelRelease: '6.1\nroot' }, 'kernelRelease'],
    ['a kernel release of 65 characters', { ...HELLO, kernelRelease: 'x'.repeat(65) }, 'kernelRelease'],
    ['virtioMem as a string', { ...HELLO, virtioMem: 'yes' }, 'virtioMem'],
    [
      '65 NUMA nodes',
      { ...HELLO, numaNodes: Array.from({ length: 65 }, (_, id) => ({ id, memTotalBytes: 0 })) },
      'numaNodes',
    ],
    ['heartbeat seq 0', { type: 'heartbeat', seq: 0, uptimeMs: 1 }, 'seq'],
    ['a fractional seq', { type: 'heartbeat', seq: 1.5, uptimeMs: 1 }, 'seq'],
    ['a reply with neither result nor error', { type: 'reply', id: 1, ok: true }, '(message)'],
    ['a host-only message type', { type: 'app.start', id: 1 }, 'type'],
    ['an over-long error code', { type: 'error', code: 'x'.repeat(200), message: '' }, 'code'],
    [
      'an app name shaped like a path',
      { type: 'app.exited', name: '../kvd', pid: 3, code: 0, signal: null },
      'name',
    ],
    [
      'an unknown severity',
      { type: 'app.exited', name: 'kvd', pid: 3, code: 0, signal: null, severity: 'meh' },
      'severity',
    ],
    ['a memory request of 0 bytes', { type: 'mem.request', app: 'kvd', bytes: 0 }, 'bytes'],
    ['a memory request past 2^53', { type: 'mem.request', app: 'kvd', bytes: 2 ** 60 }, 'bytes'],
    ['an exit code over 255', { type: 'app.exited', name: 'kvd', pid: 3, code: 256, signal: null }, 'code'],
    ['a message that is not an object', 'hello', 'type'],
    ['null', null, 'type'],
  ])('refuses %s', (_label, message, where) => {
    const result = parseGuestMessage(message);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason.startsWith(where)).toBe(true);
  });

  it('refuses a message nested deeper than the cap before validating it', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 50; i += 1) deep = { d: deep };
    expect(parseGuestMessage({ type: 'error', code: 'x', message: 'y', deep })).toEqual({
      ok: false,
      reason: 'nested deeper than 6',
    });
  });
});

describe('jsonDepth', () => {
  it('counts nesting of objects and arrays', () => {
    expect(jsonDepth(1)).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth({ a: [{ b: 1 }] })).toBe(3);
  });
});

describe('memStatusSchema', () => {
  it('requires every documented field', () => {
    expect(memStatusSchema.safeParse({ memTotalBytes: 1 }).success).toBe(false);
  });
});
