// The dashboard's requests page without a browser: its "reached main without review" section rendered
// into a minimal stand-in for the DOM (the Chromium suite needs /usr/bin/chromium; this runs everywhere).
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** Just what src/web/dom.js and the page call: elements with attributes, children and text. */
class FakeNode {
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

type RenderRequests = (ctx: unknown) => Promise<FakeNode>;
/** A plain ES module of the dashboard (no type declarations: typed where it is used). */
const webModule = (file: string): Promise<unknown> => import(/* @vite-ignore */ new URL(`../../src/web/${file}`, import.meta.url).href);
let renderRequests: RenderRequests;
const saved: Record<string, unknown> = {};

beforeAll(async () => {
  const g = globalThis as Record<string, unknown>;
  for (const k of ["document", "Node"]) saved[k] = g[k];
  g.Node = FakeNode;
  g.document = { createElement: (tag: string) => new FakeNode(tag.toUpperCase()), createTextNode: (text: string) => new FakeNode("#text", text), activeElement: null };
  ({ renderRequests } = (await webModule("pages/requests.js")) as { renderRequests: RenderRequests });
});
afterAll(() => {
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(saved)) g[k] = v;
});

/** A page context answering each API path from `answers` (an Error is thrown as the API's failure). */
function context(answers: Record<string, unknown>) {
  return {
    query: new URLSearchParams(),
    setTitle: () => undefined,
    link: (p: string) => `#${p}`,
    api: (path: string) => {
      const a = answers[path];
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
  };
}

const noRequests = { items: [], nextCursor: null };

describe("the requests page's unreviewed section", () => {
  it("lists each document that reached main without review, with its commit, subject and the request a trailer names", async () => {
    const page = await renderRequests(
      context({
        "/api/v1/requests": noRequests,
        "/api/v1/requests/unreviewed": {
          repository: "gitops",
          branch: "main",
          head: "f".repeat(40),
          checkedAt: "2026-12-01T10:00:00.000Z",
          items: [
            { path: "distgit/branches/rpms/nethack/f44.yaml", commit: "a".repeat(40), subject: "Merge request by hand", requestId: "01JREQ0000000000000000000A" },
            { path: "distgit/repos/rpms/nethack.yaml", commit: null, subject: null },
          ],
        },
      }),
    );
    const headings = page.all("H2").map((h) => h.textContent);
    expect(headings).toContain("Reached main without review");
    const rows = page.all("TBODY").at(-1)?.all("TR") ?? [];
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringContaining("distgit/branches/rpms/nethack/f44.yaml"),
      expect.stringContaining("not in the history"),
    ]);
    expect(rows[0]?.textContent).toContain("Merge request by hand");
    expect(rows[0]?.textContent).toContain("01JREQ0000000000000000000A");
  });

  it("says when main has not been looked at yet, and shows no section when the server checks no branch (404)", async () => {
    const pending = await renderRequests(context({ "/api/v1/requests": noRequests, "/api/v1/requests/unreviewed": { repository: "gitops", branch: "main", head: null, checkedAt: null, items: [] } }));
    expect(pending.textContent).toContain("Not checked yet");

    const { ApiError } = (await webModule("api.js")) as { ApiError: new (status: number, problem: unknown) => Error };
    const off = await renderRequests(context({ "/api/v1/requests": noRequests, "/api/v1/requests/unreviewed": new ApiError(404, { detail: "requests are off" }) }));
    expect(off.all("H2").map((h) => h.textContent)).not.toContain("Reached main without review");
    expect(off.textContent).toContain("No request yet.");
  });
});
