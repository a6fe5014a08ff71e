// The dashboard's pages without a browser: a minimal stand-in for the DOM that src/web/dom.js and
// the pages call (the Chromium suite needs /usr/bin/chromium; this runs everywhere).

/** Just what src/web/dom.js and the pages call: elements with attributes, children and text. */
export class FakeNode {
  readonly children: FakeNode[] = [];
  readonly attributes = new Map<string, string>();
  constructor(
    readonly tagName: string,
    readonly text = "",
  ) {}
  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }
  addEventListener(): void {}
  appendChild(child: FakeNode): FakeNode {
    this.children.push(child);
    return child;
  }
  get textContent(): string {
    return this.text + this.children.map((c) => c.textContent).join("");
  }
  /** Every element below this one (depth first) with this tag name. */
  all(tag: string): FakeNode[] {
    return this.children.flatMap((c) => [...(c.tagName === tag ? [c] : []), ...c.all(tag)]);
  }
}

/** A plain ES module of the dashboard (no type declarations: typed where it is used). */
export const webModule = (file: string): Promise<unknown> => import(/* @vite-ignore */ new URL(`../../src/web/${file}`, import.meta.url).href);

/** Puts the stand-in `document` and `Node` on globalThis; returns what puts the old ones back. */
export function installFakeDom(): () => void {
  const g = globalThis as Record<string, unknown>;
  const saved: Record<string, unknown> = {};
  for (const k of ["document", "Node"]) saved[k] = g[k];
  g.Node = FakeNode;
  g.document = { createElement: (tag: string) => new FakeNode(tag.toUpperCase()), createTextNode: (text: string) => new FakeNode("#text", text), activeElement: null };
  return () => {
    for (const [k, v] of Object.entries(saved)) g[k] = v;
  };
}
