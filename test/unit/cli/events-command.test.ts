import { describe, expect, it } from 'vitest';
import { buildEventsCommand } from '../../../src/cli/events-command.js';
import type { BatonEvent } from '../../../src/daemon/events.js';
import { serveFakeDaemon } from './fake-daemon.js';

const fault = (seq: number): BatonEvent => ({
  type: 'fault',
  seq,
  at: '2026-12-06T05:00:00.000Z',
  vm: 'vm-a',
  signal: 'hang',
  app: null,
  action: 'failover',
});

async function run(stateDir: string, args: string[]): Promise<string[]> {
  const printed: string[] = [];
  await buildEventsCommand({ stateDir: () => stateDir, print: (line) => printed.push(line) })
    .exitOverride()
    .parseAsync(args, { from: 'user' });
  return printed;
}

describe('baton events', () => {
  it('prints the recent events one JSON line each, and nothing when there are none', async () => {
    const events = [fault(1), fault(2)];
    const stateDir = await serveFakeDaemon({ recentEvents: () => events });
    expect((await run(stateDir, [])).map((line) => JSON.parse(line))).toEqual(events);
    events.length = 0;
    expect(await run(stateDir, [])).toEqual([]);
  });

  it('with --follow prints the following line and each event until the daemon ends the stream', async () => {
    let emit: (event: BatonEvent) => void = () => undefined;
    const stateDir = await serveFakeDaemon({
      subscribeEvents: (listener) => {
        emit = listener;
        setTimeout(() => emit(fault(3)), 20);
        return () => undefined;
      },
    });
    const printed: string[] = [];
    const following = buildEventsCommand({ stateDir: () => stateDir, print: (line) => printed.push(line) })
      .exitOverride()
      .parseAsync(['--follow'], { from: 'user' });
    await expect.poll(() => printed.length).toBe(2);
    expect(JSON.parse(printed[0] ?? '')).toMatchObject({ type: 'following', seq: 0 });
    expect(JSON.parse(printed[1] ?? '')).toEqual(fault(3));
    following.catch(() => undefined); // ended when the fake daemon closes after the test
  });
});
