// The dashboard's requests page without a browser: its "reached main without review" section rendered
// into a minimal stand-in for the DOM (the Chromium suite needs /usr/bin/chromium; this runs everywhere).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeNode, installFakeDom, webModule } from "../support/fakeDom.js";

type RenderRequests = (ctx: unknown) => Promise<FakeNode>;
let renderRequests: RenderRequests;
let restoreDom: () => void = () => undefined;

beforeAll(async () => {
  restoreDom = installFakeDom();
  ({ renderRequests } = (await webModule("pages/requests.js")) as { renderRequests: RenderRequests });
});
afterAll(() => restoreDom());

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
