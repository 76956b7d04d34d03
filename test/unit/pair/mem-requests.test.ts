import { describe, expect, it } from 'vitest';
import { WaitTimeoutError } from '../../../src/errors.js';
import type { Granted } from '../../../src/pair/grant.js';
import { type GrantPath, serveMemRequests } from '../../../src/pair/mem-requests.js';
import { MiB } from '../../../src/units.js';
import { type FakeVm, fakeVm, recordingLogger } from './fake-pair.js';

/** A grant path that records each request and grants it, or refuses it with `refusal`. */
function grantPath(refusal?: Error) {
  const { log, lines } = recordingLogger();
  const asked: Array<{ app: string; extraBytes: number; vm?: string }> = [];
  const host: GrantPath = {
    log,
    grantMemory: async (request) => {
      asked.push(request);
      if (refusal !== undefined) throw refusal;
      const granted: Granted = {
        grantedBytes: request.extraBytes,
        sizeBytes: 32 * MiB + request.extraBytes,
        epoch: 7,
      };
      return granted;
    },
  };
  return { host, asked, lines };
}

/** The guest on `fake` asks for `bytes` more for `app`, as its agent's channel reports it. */
function ask(fake: FakeVm, app: string, bytes: number): void {
  fake.vm.machine.agent.emit('memRequest', { type: 'mem.request', app, bytes }, performance.now());
}

const answers = (fake: FakeVm) => fake.calls.filter((c) => c.startsWith('agent mem.request'));

describe('serveMemRequests', () => {
  it('grants through the pair on the VM the request came from and tells the guest', async () => {
    const fake = fakeVm('vm-b');
    const { host, asked, lines } = grantPath();
    serveMemRequests(host, fake.vm);
    ask(fake, 'cache', 16 * MiB);
    await expect.poll(() => answers(fake)).toEqual(['agent mem.request cache granted']);
    expect(asked).toEqual([{ app: 'cache', extraBytes: 16 * MiB, vm: 'vm-b' }]);
    expect(lines.find((l) => l.msg === 'granted a guest memory request from the pool')).toMatchObject({
      vm: 'vm-b',
      app: 'cache',
    });
  });

  it('answers a refusal with its reason and logs it as an audit line', async () => {
    const fake = fakeVm('vm-a');
    const why = 'Cannot grant memory to cache: pool has 16 MiB, cache asked for 64 MiB';
    const { host, lines } = grantPath(new Error(why));
    serveMemRequests(host, fake.vm);
    ask(fake, 'cache', 64 * MiB);
    await expect.poll(() => answers(fake)).toEqual([`agent mem.request cache refused: ${why}`]);
    expect(lines.find((l) => l.msg === 'refused a guest memory request')).toMatchObject({
      audit: 'mem.request refused',
      vm: 'vm-a',
      app: 'cache',
      bytes: 64 * MiB,
      reason: why,
    });
  });

  it('answers each of two requests on their own', async () => {
    const fake = fakeVm('vm-a');
    const { host, asked } = grantPath();
    serveMemRequests(host, fake.vm);
    ask(fake, 'cache', 2 * MiB);
    ask(fake, 'kvd', 4 * MiB);
    await expect
      .poll(() => answers(fake).sort())
      .toEqual(['agent mem.request cache granted', 'agent mem.request kvd granted']);
    expect(asked.map((a) => a.app).sort()).toEqual(['cache', 'kvd']);
  });

  it('survives a refusal whose answer cannot be delivered (the guest is gone)', async () => {
    const fake = fakeVm('vm-a');
    fake.onAnswerMemRequest = async () => {
      throw new WaitTimeoutError({ waitedFor: 'the agent on vm-a to take an answer', timeoutMs: 5000 });
    };
    const { host, lines } = grantPath(new Error('the pair is failing over'));
    serveMemRequests(host, fake.vm);
    ask(fake, 'cache', 2 * MiB);
    await expect
      .poll(() => answers(fake))
      .toEqual(['agent mem.request cache refused: the pair is failing over']);
    expect(lines.filter((l) => l.msg === 'refused a guest memory request')).toHaveLength(1);
  });

  it('never calls a grant whose answer was lost a refusal: the memory is granted, the lost answer is logged as such', async () => {
    const fake = fakeVm('vm-a');
    fake.onAnswerMemRequest = async () => {
      throw new WaitTimeoutError({ waitedFor: 'the agent on vm-a to take an answer', timeoutMs: 5000 });
    };
    const { host, asked, lines } = grantPath();
    serveMemRequests(host, fake.vm);
    ask(fake, 'cache', 2 * MiB);
    await expect
      .poll(() => lines.some((l) => l.msg === 'could not answer a guest memory request'))
      .toBe(true);
    expect(asked).toHaveLength(1);
    expect(answers(fake)).toEqual(['agent mem.request cache granted']);
    expect(lines.filter((l) => l.msg === 'refused a guest memory request')).toEqual([]);
    expect(lines.find((l) => l.msg === 'could not answer a guest memory request')).toMatchObject({
      vm: 'vm-a',
      app: 'cache',
      granted: true,
    });
  });
});
