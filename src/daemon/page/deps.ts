// What the status page's script touches: the few DOM members it uses, and what it is handed.
import type { heartbeatLevel, Overview, phaseBars, recentFailovers, tableRows } from './shape.js';

/** The few DOM members the script uses (the project's TypeScript has no DOM library). */
export interface PageElement {
  textContent: string | null;
  className: string;
  title: string;
  style: { width: string; marginLeft: string };
  append(...children: Array<PageElement | string>): void;
  replaceChildren(...children: PageElement[]): void;
  setAttribute(name: string, value: string): void;
}

export interface PageDocument {
  createElement(tag: string): PageElement;
  getElementById(id: string): PageElement | null;
}

/** Everything the script calls, passed in: the browser's fetch and clock, and the shaping functions. */
export interface PageDeps {
  load(): Promise<Overview>;
  schedule(run: () => void, delayMs: number): void;
  nowMs(): number;
  pollMs: number;
  formatBytes(bytes: number): string;
  formatMs(durationMs: number): string;
  tableRows: typeof tableRows;
  phaseBars: typeof phaseBars;
  recentFailovers: typeof recentFailovers;
  heartbeatLevel: typeof heartbeatLevel;
}
