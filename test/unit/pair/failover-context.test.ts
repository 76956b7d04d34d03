import { describe, expect, it } from 'vitest';
import { type ContextHost, failoverContext } from '../../../src/pair/failover-context.js';
import { MiB } from '../../../src/units.js';
import { fakePair } from './fake-pair.js';

describe('failoverContext', () => {
  it('acts on the named VM through the mechanism and the agent, by the app slot', async () => {
    const f = await fakePair();
    const ctx = failoverContext(f.pair as unknown as ContextHost);
    expect(await ctx.plug('vm-b', 'kvd', 128 * MiB)).toBe(128 * MiB);
    await ctx.unplug('vm-a', 'cron');
    await ctx.startApp('vm-b', 'kvd', 128 * MiB);
    expect(f.mechanism.calls).toEqual(['plug vm-b slot0 128 MiB', 'unplug vm-a slot1']);
    expect(f.standby.calls).toEqual(['agent app.start kvd with disk']);
    expect(ctx.sizeOf('kvd')).toBe(128 * MiB);
  });

  it('routes the endpoint to the VM an app serves from, and holds it', async () => {
    const f = await fakePair();
    const ctx = failoverContext(f.pair as unknown as ContextHost);
    ctx.serveFrom('kvd', 'vm-b');
    ctx.hold('kvd');
    expect(f.endpointCalls).toEqual([`route vm-b:${f.standby.vm.forwards.get('kvd')}`, 'hold']);
  });

  it('says which VM is missing, and fences a VM it does not have as already gone', async () => {
    const f = await fakePair();
    const ctx = failoverContext(f.pair as unknown as ContextHost);
    await expect(ctx.plug('vm-c', 'kvd', 2 * MiB)).rejects.toThrow('vm-c is not running');
    await expect(ctx.fence('vm-c')).resolves.toBeUndefined();
  });
});
