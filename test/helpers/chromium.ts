// Headless Chromium for page tests: the rendered DOM after the page's script ran, and a screenshot.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome'];

/** The Chromium command on PATH, or undefined (the caller skips with a reason). */
export function findChromium(): string | undefined {
  for (const name of CANDIDATES) {
    try {
      execFileSync('sh', ['-c', 'command -v "$0"', name], { stdio: 'pipe' });
      return name;
    } catch {
      // Not this one: try the next name.
    }
  }
  return undefined;
}

export const NO_CHROMIUM_REASON = `no Chromium on PATH (looked for ${CANDIDATES.join(', ')}): make setup installs Debian's chromium`;

/**
 * Runs headless Chromium on `url` with a private profile; `virtualTimeMs` of page time pass (the
 * polls run) before it dumps the DOM or takes the screenshot. Root needs --no-sandbox.
 */
async function runChromium(command: string, url: string, virtualTimeMs: number, extra: string[]) {
  const profile = mkdtempSync(join(tmpdir(), 'baton-chromium-'));
  try {
    return await execa(
      command,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        `--virtual-time-budget=${virtualTimeMs}`,
        ...extra,
        url,
      ],
      { timeout: 60_000, reject: false },
    );
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

export async function dumpDom(command: string, url: string, virtualTimeMs = 3000): Promise<string> {
  const result = await runChromium(command, url, virtualTimeMs, ['--dump-dom']);
  if (result.exitCode !== 0 || result.stdout === '')
    throw new Error(`chromium --dump-dom ${url} exited ${result.exitCode}: ${result.stderr.slice(-2000)}`);
  return result.stdout;
}

export async function screenshot(command: string, url: string, path: string, virtualTimeMs = 3000) {
  const result = await runChromium(command, url, virtualTimeMs, [
    `--screenshot=${path}`,
    '--window-size=1280,900',
  ]);
  if (result.exitCode !== 0)
    throw new Error(`chromium --screenshot ${url} exited ${result.exitCode}: ${result.stderr.slice(-2000)}`);
}
