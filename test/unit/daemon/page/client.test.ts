// The status page's script called directly (html.test.ts runs its copied text in a sandbox): states, errors, failover cards.
import { describe, expect, it } from 'vitest';
import { runStatusPage } from '../../../../src/daemon/page/client.js';
import type { PageDeps } from '../../../../src/daemon/page/deps.js';
import {
  heartbeatLevel,
  type Overview,
  phaseBars,
  recentFailovers,
  tableRows,
} from '../../../../src/daemon/page/shape.js';
import { formatBytes, formatMs } from '../../../../src/units.js';
import { FakeDocument, type FakeElement } from '../../../fakes/page-dom.js';
import { demoOverview, PAGE_IDS, WHOLE_VM_FAILOVER } from './fixtures.js';

/** Runs the script on a fake document; each poll takes the next answer (an Error rejects). */
function page(answers: Array<Overview | Error>, ids: readonly string[] = PAGE_IDS) {
  const doc = new FakeDocument(ids);
  const scheduled: Array<() => void> = [];
  const deps: PageDeps = {
    load: () => {
      const answer = answers.shift() ?? new Error('no more answers');
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
    schedule: (run) => void scheduled.push(run),
    nowMs: () => Date.parse('2026-12-06T05:11:12.000Z'),
    pollMs: 1000,
    formatBytes,
    formatMs,
    tableRows,
    phaseBars,
    recentFailovers,
    heartbeatLevel,
  };
  runStatusPage(doc, deps);
  return { doc, scheduled };
}

/** The first element below `root` whose class list starts with `prefix`. */
function findByClass(root: FakeElement, prefix: string): FakeElement | undefined {
  for (const child of root.children) {
    if (typeof child === 'string') continue;
    if (child.className.startsWith(prefix)) return child;
    const found = findByClass(child, prefix);
    if (found !== undefined) return found;
  }
  return undefined;
}

describe('the status page script', () => {
  it('shows a blocked pair with its reason, or says none was given', async () => {
    const blocked = demoOverview();
    blocked.status = {
      ...blocked.status,
      state: 'blocked',
      blocked: true,
      blockedReason: 'undo of plug failed',
    };
    const { doc, scheduled } = page([
      blocked,
      { ...blocked, status: { ...blocked.status, blockedReason: null } },
    ]);
    await expect.poll(() => scheduled.length).toBe(1);
    expect(doc.get('pair-state').textContent).toBe('blocked: undo of plug failed');
    expect(doc.get('pair-state').className).toBe('badge big bad');
    scheduled[0]?.();
    await expect.poll(() => scheduled.length).toBe(2);
    expect(doc.get('pair-state').textContent).toBe('blocked: no reason given');
  });

  it('says the daemon never answered when the first poll fails, and polls again', async () => {
    const { doc, scheduled } = page([new Error('connection refused')]);
    await expect.poll(() => scheduled.length).toBe(1);
    expect(doc.get('freshness').className).toBe('stale');
    expect(doc.get('freshness').textContent).toBe(
      'the daemon does not answer (Error: connection refused); last update never',
    );
    expect(doc.get('freshness').textContent).not.toContain('updated');
  });

  it('says when the last good update was once the daemon stops answering', async () => {
    const { doc, scheduled } = page([demoOverview(), new Error('HTTP 503')]);
    await expect.poll(() => scheduled.length).toBe(1);
    expect(doc.get('freshness').textContent).toBe('updated 05:11:12 UTC, polling every 1.0 s');
    scheduled[0]?.();
    await expect.poll(() => scheduled.length).toBe(2);
    expect(doc.get('freshness').textContent).toBe(
      'the daemon does not answer (Error: HTTP 503); last update 05:11:12 UTC',
    );
  });

  it('says the page could not draw an answer, not that the daemon is silent, and polls again', async () => {
    const broken = { ...demoOverview(), history: null } as unknown as ReturnType<typeof demoOverview>;
    const { doc, scheduled } = page([demoOverview(), broken]);
    await expect.poll(() => scheduled.length).toBe(1);
    scheduled[0]?.();
    await expect.poll(() => scheduled.length).toBe(2);
    expect(doc.get('freshness').className).toBe('stale');
    expect(doc.get('freshness').textContent).toMatch(
      /^the page could not draw the daemon's answer \(TypeError: .+\); last update 05:11:12 UTC$/,
    );
  });

  it('shows the newest failovers only, counting the rest, with an app move’s app and error', async () => {
    const overview = demoOverview();
    const move = {
      ...WHOLE_VM_FAILOVER,
      id: 'b0000000-move',
      kind: 'app',
      app: 'kvd',
      result: 'failed',
      error: 'plug: timeout',
    };
    overview.history = [
      ...Array.from({ length: 7 }, (_, i) => ({ ...WHOLE_VM_FAILOVER, id: `a000000${i}` })),
      move,
    ];
    const { doc, scheduled } = page([overview]);
    await expect.poll(() => scheduled.length).toBe(1);
    const cards = doc.get('failovers').withAttribute('data-failover');
    expect(cards).toHaveLength(6);
    expect(doc.get('failovers-summary').textContent).toBe('8 in all, the newest 6 shown, newest first');
    const card = cards.find((c) => c.attributes.get('data-failover') === 'b0000000-move');
    expect(card?.attributes.get('data-result')).toBe('failed');
    expect(card?.textContent).toContain('app failover b0000000 vm-a → vm-b (kvd), request on vm-a failed');
    expect(card?.children.at(-1)).toMatchObject({ className: 'error', textContent: 'plug: timeout' });
  });

  it('draws a phase after the recovery apart, across the whole track', async () => {
    const overview = demoOverview();
    const record = {
      ...WHOLE_VM_FAILOVER,
      totalMs: 500,
      phases: [
        { name: 'fence', ms: 500 },
        { name: 'reprotect', ms: 9000 },
      ],
    };
    overview.history = [record];
    const { doc, scheduled } = page([overview]);
    await expect.poll(() => scheduled.length).toBe(1);
    const [, after] = doc.get('failovers').withAttribute('data-phase');
    if (after === undefined) throw new Error('no second phase drawn');
    const bar = findByClass(after, 'pbar');
    expect(bar).toMatchObject({ className: 'pbar after', style: { width: '100%' } });
    expect(after?.textContent).toContain('after the recovery: not counted in its time');
  });

  it('keeps names from the config or a guest as text', async () => {
    const overview = demoOverview();
    overview.status.apps = [{ ...overview.status.apps[0], name: '<img src=x onerror=alert(1)>' } as never];
    const { doc, scheduled } = page([overview]);
    await expect.poll(() => scheduled.length).toBe(1);
    const [row] = doc.get('apps-body').withAttribute('data-app');
    expect(row?.attributes.get('data-app')).toBe('<img src=x onerror=alert(1)>');
    expect(row?.children[0]).toMatchObject({ tag: 'td', children: ['<img src=x onerror=alert(1)>'] });
  });

  it('fails loudly, naming it, when the page lacks an element it draws into', async () => {
    const { doc, scheduled } = page(
      [demoOverview()],
      PAGE_IDS.filter((id) => id !== 'vms-body'),
    );
    await expect.poll(() => scheduled.length).toBe(1);
    // The render threw: the error is shown as the daemon's (the page has nothing better to show it in).
    expect(doc.get('freshness').textContent).toContain('status page: no element #vms-body');
  });
});
