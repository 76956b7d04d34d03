import { createHash } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  buildPageScript,
  OVERVIEW_PATH,
  STATUS_PAGE_CSP,
  STATUS_PAGE_HTML,
} from '../../../../src/daemon/page/html.js';
import { FakeDocument } from '../../../fakes/page-dom.js';
import { demoOverview, PAGE_IDS } from './fixtures.js';

const inlineOf = (tag: string) => {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(STATUS_PAGE_HTML);
  if (match?.[1] === undefined) throw new Error(`no <${tag}> in the page`);
  return match[1];
};
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64');

/** Runs the page's own script text in a fresh context with a fake DOM, fetch and timer. */
function runScript(answers: Array<{ ok: boolean; status: number; body?: unknown }>) {
  const doc = new FakeDocument(PAGE_IDS);
  const fetched: string[] = [];
  const timers: Array<{ run: () => void; delayMs: number }> = [];
  runInNewContext(buildPageScript(), {
    document: doc,
    fetch: (url: string) => {
      fetched.push(url);
      const answer = answers.shift() ?? { ok: false, status: 599 };
      return Promise.resolve({ ok: answer.ok, status: answer.status, json: async () => answer.body });
    },
    setTimeout: (run: () => void, delayMs: number) => timers.push({ run, delayMs }),
  });
  return { doc, fetched, timers };
}

describe('the status page', () => {
  it('is one self-contained document: no external script, style, image, font or link', () => {
    expect(STATUS_PAGE_HTML).toMatch(/^<!doctype html>/);
    expect(STATUS_PAGE_HTML).not.toMatch(/\b(src|href)=|@import|url\(|https?:\/\//);
    expect(STATUS_PAGE_HTML.match(/<script/g)).toHaveLength(1);
    expect(Buffer.byteLength(STATUS_PAGE_HTML)).toBeLessThan(24 * 1024);
  });

  it('allows exactly its inline script and style by hash, nothing else', () => {
    const directives = STATUS_PAGE_CSP.split('; ');
    expect(directives).toContain("default-src 'none'");
    expect(directives).toContain(`script-src 'sha256-${sha256(inlineOf('script'))}'`);
    expect(directives).toContain(`style-src 'sha256-${sha256(inlineOf('style'))}'`);
    expect(directives).toContain("connect-src 'self'");
    expect(directives).toContain("require-trusted-types-for 'script'");
    expect(STATUS_PAGE_CSP).not.toMatch(/unsafe|\*/);
  });

  it('never writes markup from data: no innerHTML, outerHTML, insertAdjacentHTML or document.write', () => {
    expect(buildPageScript()).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  });

  it('polls the overview and draws the table, the VMs, the apps and the failover from it', async () => {
    const { doc, fetched, timers } = runScript([{ ok: true, status: 200, body: demoOverview() }]);
    await expect.poll(() => timers.length).toBe(1);
    expect(fetched).toEqual([OVERVIEW_PATH]);
    expect(timers[0]?.delayMs).toBe(1000);
    expect(doc.get('pair-state').textContent).toBe('protected');
    expect(doc.get('pair-state').className).toBe('badge big good');
    const segments = doc.get('table-rows').withAttribute('data-area');
    expect(segments.map((s) => [s.attributes.get('data-area'), s.style.width, s.textContent])).toEqual([
      ['os:vm-b', '13.04%', 'os 96 MiB'],
      ['app:kvd', '17.39%', 'kvd 128 MiB'],
      ['app:cache', '4.35%', 'cache 32 MiB'],
      ['os:vm-a', '13.04%', 'os 96 MiB'],
      ['monitor', '4.35%', 'monitor 32 MiB'],
      ['pool', '47.83%', 'pool 352 MiB'],
    ]);
    expect(segments[1]?.className).toBe('seg k-app app-0');
    expect(segments[1]?.title).toBe('app:kvd: 128 MiB, used by vm-b, on failure to vm-a, plugged 128 MiB');
    expect(doc.get('table-summary').textContent).toBe(
      'epoch 9: 6 areas, 736 MiB of a 736 MiB budget, drawn to scale',
    );
    const vms = doc.get('vms-body').withAttribute('data-vm');
    expect(
      vms.map((row) => row.children.map((cell) => (cell as { textContent: string }).textContent)),
    ).toEqual([
      ['vm-b', 'active', 'running', '4242', 'tcg', '96 MiB', '160 MiB', '230 ms'],
      ['vm-a', 'standby', 'running', '4343', 'tcg', '96 MiB', '0 MiB', '2.1 s'],
    ]);
    const apps = doc.get('apps-body').withAttribute('data-app');
    expect(apps.map((row) => row.textContent)).toEqual([
      'kvdvm-brunning0127.0.0.1:41000',
      'cache-waiting2127.0.0.1:41001',
    ]);
    const [failover] = doc.get('failovers').withAttribute('data-failover');
    expect(failover?.attributes.get('data-result')).toBe('succeeded');
    const phases = failover?.withAttribute('data-phase') ?? [];
    expect(phases.map((p) => p.textContent)).toEqual([
      'detect0 ms',
      'fence100 ms',
      'plug300 ms',
      'start400 ms',
      'commit200 ms',
    ]);
    expect(doc.get('failovers-summary').textContent).toBe('1 in all, newest first');
    expect(doc.get('freshness').textContent).toMatch(/^updated \d\d:\d\d:\d\d UTC, polling every 1.0 s$/);
  });

  it('keeps the last picture and says the daemon does not answer when a poll fails', async () => {
    const { doc, timers } = runScript([
      { ok: true, status: 200, body: demoOverview() },
      { ok: false, status: 503 },
    ]);
    await expect.poll(() => timers.length).toBe(1);
    timers[0]?.run();
    await expect.poll(() => timers.length).toBe(2);
    expect(doc.get('freshness').className).toBe('stale');
    expect(doc.get('freshness').textContent).toMatch(
      /^the daemon does not answer \(Error: HTTP 503\); last update \d\d:\d\d:\d\d UTC$/,
    );
    expect(doc.get('table-rows').withAttribute('data-area')).toHaveLength(6);
  });
});
