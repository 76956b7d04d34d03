// The status page as one self-contained HTML string (inline CSS and script, no external assets) and the
// Content-Security-Policy that allows exactly that script and stylesheet, by their hashes.
import { createHash } from 'node:crypto';
import { formatBytes, formatMs, GiB, KiB, MiB } from '../../units.js';
import { runStatusPage } from './client.js';
import { heartbeatLevel, phaseBars, recentFailovers, tableRows } from './shape.js';
import { STATUS_PAGE_CSS } from './style.js';

/** The JSON the page polls: `{ status, table, history }`, the three documented views at one instant. */
export const OVERVIEW_PATH = '/v1/overview';
export const STATUS_PAGE_POLL_MS = 1000;

/**
 * The page's script: every function it runs, copied by its source text (so the page runs the very
 * functions the unit tests call), then the call that starts polling, all inside one closure.
 */
export function buildPageScript(): string {
  const functions = [formatBytes, formatMs, tableRows, phaseBars, recentFailovers, heartbeatLevel];
  const load = `() => fetch(${JSON.stringify(OVERVIEW_PATH)}, { cache: 'no-store', headers: { accept: 'application/json' } })
      .then((response) => response.ok ? response.json() : Promise.reject(new Error('HTTP ' + response.status)))`;
  return [
    '(() => {',
    "'use strict';",
    `const KiB = ${KiB}, MiB = ${MiB}, GiB = ${GiB};`,
    ...functions.map((f) => f.toString()),
    runStatusPage.toString(),
    `runStatusPage(document, {
    load: ${load},
    schedule: (run, delayMs) => setTimeout(run, delayMs),
    nowMs: () => Date.now(),
    pollMs: ${STATUS_PAGE_POLL_MS},
    ${functions.map((f) => f.name).join(', ')},
  });`,
    '})();',
  ].join('\n');
}

const BODY = `<header><h1>baton</h1><span id="pair-state" class="badge big">loading</span>
<span id="freshness" class="sub">waiting for the daemon</span></header>
<main>
<section><div class="legend"><span class="k-os"></span>a VM's own (os)<span class="app-0"></span>app (a colour each)<span class="k-monitor"></span>monitor<span class="k-pool"></span>pool (unused)</div>
<h2>Resource table <span id="table-summary" class="sub"></span></h2><div id="table-rows"></div></section>
<div class="two">
<div><h2>VMs</h2><table><thead><tr><th>vm</th><th>role</th><th>state</th><th>pid</th><th>accel</th><th>base</th><th>plugged</th><th>heartbeat age</th></tr></thead><tbody id="vms-body"></tbody></table></div>
<div><h2>Apps</h2><table><thead><tr><th>app</th><th>runs on</th><th>state</th><th>restarts</th><th>endpoint</th></tr></thead><tbody id="apps-body"></tbody></table></div>
</div>
<section><h2>Failovers <span id="failovers-summary" class="sub"></span></h2><div id="failovers"></div></section>
</main>`;

function sha256Base64(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

function buildPage(): { html: string; csp: string } {
  const script = buildPageScript();
  // Both are spliced into raw-text elements: a closing tag inside would end them early.
  if (/<\/(script|style)/i.test(script + STATUS_PAGE_CSS))
    throw new Error('status page: a closing tag inside the script or style');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>baton status</title><style>${STATUS_PAGE_CSS}</style></head>
<body>${BODY}<script>${script}</script></body></html>
`;
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${sha256Base64(script)}'`,
    `style-src 'sha256-${sha256Base64(STATUS_PAGE_CSS)}'`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
  return { html, csp };
}

const PAGE = buildPage();
export const STATUS_PAGE_HTML = PAGE.html;
export const STATUS_PAGE_CSP = PAGE.csp;
