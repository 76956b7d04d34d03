// A tiny DOM for the status page's script in unit tests: elements with text, classes, attributes and children.
import type { PageDocument, PageElement } from '../../src/daemon/page/deps.js';

export class FakeElement implements PageElement {
  readonly tag: string;
  className = '';
  title = '';
  readonly style = { width: '', marginLeft: '' };
  readonly attributes = new Map<string, string>();
  children: Array<FakeElement | string> = [];

  constructor(tag: string) {
    this.tag = tag;
  }

  get textContent(): string {
    return this.children.map((child) => (typeof child === 'string' ? child : child.textContent)).join('');
  }

  set textContent(text: string | null) {
    this.children = text === null || text === '' ? [] : [text];
  }

  append(...children: Array<PageElement | string>): void {
    this.children.push(...(children as Array<FakeElement | string>));
  }

  replaceChildren(...children: PageElement[]): void {
    this.children = children as FakeElement[];
  }

  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }

  /** Every element below this one (depth first) whose attribute `name` is set. */
  withAttribute(name: string): FakeElement[] {
    const found: FakeElement[] = [];
    for (const child of this.children) {
      if (typeof child === 'string') continue;
      if (child.attributes.has(name)) found.push(child);
      found.push(...child.withAttribute(name));
    }
    return found;
  }
}

/** A document holding the page's fixed elements by id (those html.ts writes), creating any tag. */
export class FakeDocument implements PageDocument {
  readonly byId = new Map<string, FakeElement>();
  created = 0;

  constructor(ids: readonly string[]) {
    for (const id of ids) this.byId.set(id, new FakeElement('div'));
  }

  createElement(tag: string): FakeElement {
    this.created += 1;
    return new FakeElement(tag);
  }

  getElementById(id: string): FakeElement | null {
    return this.byId.get(id) ?? null;
  }

  get(id: string): FakeElement {
    const element = this.byId.get(id);
    if (element === undefined) throw new Error(`no #${id}`);
    return element;
  }
}
