// Reads elements out of a DOM that Chromium dumped (markup the status page wrote): by a data attribute,
// with their attributes, inner markup and text. Enough for that markup, not a general HTML parser.

export interface DumpedElement {
  tag: string;
  attributes: Map<string, string>;
  inner: string;
  /** The inner text with tags removed and the five basic entities decoded. */
  text: string;
}

const ENTITIES: Record<string, string> = {
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
  '&amp;': '&',
};

export function textOf(markup: string): string {
  return markup
    .replace(/<[^>]*>/g, '')
    .replace(/&(lt|gt|quot|#39|amp);/g, (entity) => ENTITIES[entity] ?? entity);
}

/** The inner markup of the element whose opening tag ends at `from`, up to its matching close. */
function innerOf(dom: string, tag: string, from: number): string {
  const pattern = new RegExp(`<(/?)${tag}\\b[^>]*>`, 'g');
  pattern.lastIndex = from;
  let depth = 1;
  for (let match = pattern.exec(dom); match !== null; match = pattern.exec(dom)) {
    depth += match[1] === '/' ? -1 : 1;
    if (depth === 0) return dom.slice(from, match.index);
  }
  throw new Error(`no closing </${tag}> after offset ${from}`);
}

/** Every element carrying `attribute`, in document order. */
export function elementsWith(dom: string, attribute: string): DumpedElement[] {
  const opening = new RegExp(
    `<([a-z0-9]+)((?:\\s+[a-z-]+(?:="[^"]*")?)*\\s+${attribute}="[^"]*"(?:\\s+[a-z-]+(?:="[^"]*")?)*)\\s*>`,
    'g',
  );
  const found: DumpedElement[] = [];
  for (const match of dom.matchAll(opening)) {
    const tag = match[1] as string;
    const attributes = new Map<string, string>();
    for (const attr of (match[2] as string).matchAll(/([a-z-]+)(?:="([^"]*)")?/g))
      attributes.set(attr[1] as string, textOf(attr[2] ?? ''));
    const inner = innerOf(dom, tag, (match.index ?? 0) + match[0].length);
    found.push({ tag, attributes, inner, text: textOf(inner) });
  }
  return found;
}

/** The texts of a row's cells (`<td>`), in order. */
export function cellTexts(rowInner: string): string[] {
  return [...rowInner.matchAll(/<td\b[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => textOf(cell[1] ?? ''));
}
