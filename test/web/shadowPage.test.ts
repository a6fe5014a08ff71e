// The dashboard's Shadow page without a browser: the agreement counts and the disagreements rendered
// into a minimal stand-in for the DOM (the Chromium suite needs /usr/bin/chromium; this runs everywhere).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeNode, installFakeDom, webModule } from "../support/fakeDom.js";

type RenderShadow = (ctx: unknown) => Promise<FakeNode>;
let renderShadow: RenderShadow;
let restoreDom: () => void = () => undefined;

beforeAll(async () => {
  restoreDom = installFakeDom();
  ({ renderShadow } = (await webModule("pages/shadow.js")) as { renderShadow: RenderShadow });
});
afterAll(() => restoreDom());

function context(answer: unknown, asked: unknown[] = []) {
  return {
    query: new URLSearchParams(),
    setTitle: () => undefined,
    link: (p: string) => `#${p}`,
    api: (path: string, query: unknown) => {
      asked.push([path, query]);
      return Promise.resolve(answer);
    },
  };
}

describe("the dashboard's Shadow page", () => {
  it("shows the agreement counts by kind and lists each disagreement with both sides", async () => {
    const asked: unknown[] = [];
    const page = await renderShadow(
      context(
        {
          since: null,
          totals: { agreed: 3, disagreed: 1, undecidable: 2 },
          counts: [
            { kind: "BranchRequest", outcome: "agreed", count: 3 },
            { kind: "BranchRequest", outcome: "disagreed", count: 1 },
            { kind: "none", outcome: "undecidable", count: 2 },
          ],
          disagreements: [
            { ticketId: 102, branch: "mr/scm-102", title: 'New Branch "f43" for "rpms/nethack"', kind: "BranchRequest", path: "distgit/branches/rpms/nethack/f43.yaml", author: "jdoe", outcome: "disagreed", closeStatus: "Denied", closedBy: "releng-bot", relengd: "approved: policy/branch-by-maintainer", bot: "Denied by releng-bot: no, thanks", comparedAt: "2026-05-01T12:00:00.000Z" },
          ],
        },
        asked,
      ),
    );
    expect(asked).toEqual([["/api/v1/shadow/agreement", {}]]);
    expect(page.all("H2").map((h) => h.textContent)).toContain("Agreement with the request processor");
    expect(page.textContent).toContain("agreed 3");
    const [counts, disagreements] = page.all("TBODY");
    expect(counts?.all("TR").map((r) => r.textContent)).toEqual(["BranchRequest310", "no request (no ticket JSON)002"]);
    const row = disagreements?.all("TR")[0]?.textContent ?? "";
    expect(row).toContain("mr/scm-102");
    expect(row).toContain("approved: policy/branch-by-maintainer");
    expect(row).toContain("Denied by releng-bot: no, thanks");
  });

  it("says when nothing was compared yet", async () => {
    const page = await renderShadow(context({ since: null, totals: { agreed: 0, disagreed: 0, undecidable: 0 }, counts: [], disagreements: [] }));
    expect(page.textContent).toContain("No closed ticket compared yet.");
    expect(page.textContent).toContain("relengd agrees with every ticket it could judge.");
  });
});
