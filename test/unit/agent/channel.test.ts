import { afterEach, describe, expect, it, vi } from 'vitest';
import { AGENT_RATE_BURST, type AgentChannel, connectAgent } from '../../../src/agent/channel.js';
import { AgentError, WaitTimeoutError } from '../../../src/errors.js';
import { createSilentLogger } from '../../../src/log.js';
import { FakeAgentPeer, HELLO } from '../../fakes/agent-peer.js';

let peer: FakeAgentPeer;
let channel: AgentChannel;

async function connect(nowMs?: () => number): Promise<AgentChannel> {
  peer = await new FakeAgentPeer().listen();
  channel = await connectAgent(peer.socketPath, {
    vm: 'vm-b',
    log: createSilentLogger(),
    ...(nowMs === undefined ? {} : { nowMs }),
  });
  return channel;
}

afterEach(async () => {
  channel?.close();
  await peer?.close();
});

describe('AgentChannel', () => {
  it('records hello and heartbeats with host receive times', async () => {
    const agent = await connect();
    const hello = agent.waitForHello(1000);
    peer.send(HELLO);
    await expect(hello).resolves.toEqual(HELLO);
    peer.send({ type: 'heartbeat', seq: 1, uptimeMs: 3600 });
    peer.send({ type: 'heartbeat', seq: 2, uptimeMs: 4100 });
    const beat = await agent.waitForHeartbeat(2, 1000);
    expect(beat.seq).toBe(2);
    expect(agent.lastHeartbeatAtMs).toBeGreaterThan(agent.helloAtMs ?? Number.POSITIVE_INFINITY);
  });

  it('answers sync only when the nonce is echoed', async () => {
    const agent = await connect();
    peer.answerWith((r) => ({ type: 'reply', id: r.id, ok: true, result: { nonce: r.nonce } }));
    await expect(agent.sync('n-1', 1000)).resolves.toBeUndefined();
    peer.answerWith((r) => ({ type: 'reply', id: r.id, ok: true, result: { nonce: 'other' } }));
    const error = await agent.sync('n-2', 1000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ agentCode: 'nonce-mismatch', vm: 'vm-b' });
    expect(peer.received.map((r) => r.type)).toEqual(['sync', 'sync']);
  });

  it('turns an error reply into AgentError with the agent code', async () => {
    const agent = await connect();
    peer.answerWith((r) => ({
      type: 'reply',
      id: r.id,
      ok: false,
      error: { code: 'unknown-type', message: 'no such request' },
    }));
    const error = await agent.request('bogus', {}, 1000).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'AGENT_ERROR',
      agentCode: 'unknown-type',
      message: 'Guest agent on vm-b refused the request: unknown-type: no such request',
    });
  });

  it('refuses hostile lines, keeps the identity it was given, and stays usable', async () => {
    const agent = await connect();
    const refused: string[] = [];
    agent.on('refused', (reason) => refused.push(reason));
    peer.sendRaw('x'.repeat(5000));
    peer.sendRaw('{not json');
    peer.send({ ...HELLO, vm: 'vm-a' });
    peer.send({ type: 'reply', id: 77, ok: true, result: {} });
    const hello = agent.waitForHello(1000);
    peer.send(HELLO);
    await hello;
    expect(refused).toHaveLength(4);
    expect(refused[0]).toMatch(/^too-long/);
    expect(refused[1]).toMatch(/^bad-json/);
    expect(refused[2]).toMatch(/^vm/);
    expect(refused[3]).toBe('reply to unknown id 77');
    expect(agent.vm).toBe('vm-b');
  });

  it('drops messages past the rate limit', async () => {
    // A frozen clock: the bucket never refills, so exactly the burst gets through.
    const agent = await connect(() => 0);
    let refusedCount = 0;
    agent.on('refused', () => {
      refusedCount += 1;
    });
    peer.sendRaw(
      Array.from({ length: 300 }, (_, i) =>
        JSON.stringify({ type: 'heartbeat', seq: i + 1, uptimeMs: 1 }),
      ).join('\n'),
    );
    await agent.waitForHeartbeat(AGENT_RATE_BURST, 1000);
    await vi.waitFor(() => expect(refusedCount).toBe(300 - AGENT_RATE_BURST), { timeout: 1000 });
    expect(agent.lastHeartbeat?.seq).toBe(AGENT_RATE_BURST);
  });

  it('times out waiting for hello with a hint, and fails pending requests on disconnect', async () => {
    const agent = await connect();
    const error = await agent
      .waitForHello(50, 'see the serial console at /x/serial.log')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as Error).message).toBe(
      'Timed out after 50 ms waiting for hello from the guest agent on vm-b; see the serial console at /x/serial.log',
    );
    const pending = agent.memStatus(1000).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 30));
    peer.disconnect();
    expect(await pending).toMatchObject({ agentCode: 'disconnected' });
  });

  it('keeps no timer of a hello or heartbeat wait among what holds the process alive (a stopping daemon exits at once)', async () => {
    const agent = await connect();
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    void agent.waitForHello(60_000).catch(() => undefined);
    void agent.waitForHeartbeat(1_000_000, 60_000).catch(() => undefined);
    expect(timers()).toBe(before);
  });
});
