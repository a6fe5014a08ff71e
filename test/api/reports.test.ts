// GET /api/v1/reports/broken-deps[/ID] and /reports/broken-deps[/ID]: the reports as JSON and as
// HTML with the dashboard's look, the diff against the previous report on top, everything from
// an RPM header escaped; retention keeps what later reports and releases need.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BrokenDepsReport } from "../../src/domain/brokenDeps.js";
import { pruneBrokenDepsReports } from "../../src/flow/prune.js";
import { BrokenDepsReportRepository, type BrokenDepsReportRecord } from "../../src/store/brokenDepsReportRepository.js";
import { PruneRepository } from "../../src/store/pruneRepository.js";
import { stamp } from "../../src/store/store.js";
import { parseArtifact } from "../../src/domain/artifact.js";
import { sampleArtifact } from "../support/artifacts.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { testProviders } from "../support/database.js";

const HOSTILE = `<script>alert("x")</script> >= 1`;

function report(tree: string, at: Date, rows: Record<string, { source: string; nevra: string; unresolved: string[]; blame?: string[] }[]>): BrokenDepsReport {
  return { tree, generatedAt: at.toISOString(), arches: Object.fromEntries(Object.entries(rows).map(([arch, list]) => [arch, list.map((r) => ({ repo: "main", blame: [], ...r }))])) };
}

describe.each(testProviders)("broken-dependency reports over HTTP on %s", (provider) => {
  let t: TestApp;
  let reports: BrokenDepsReportRepository;
  let first: BrokenDepsReportRecord;
  let second: BrokenDepsReportRecord;
  let failed: BrokenDepsReportRecord;
  let other: BrokenDepsReportRecord;
  const day = (n: number) => new Date(Date.UTC(2031, 4, n, 4, 0, 0));

  beforeAll(async () => {
    t = await startTestApp(provider);
    reports = new BrokenDepsReportRepository(t.database.db);
    const save = (r: BrokenDepsReport, at: Date) => reports.save({ tree: r.tree, origin: "policy/rawhide", repoSetKey: "k", arches: Object.keys(r.arches), generatedAt: at, dnfMs: 10, report: r });
    first = await save(report("rawhide", day(1), { x86_64: [{ source: "alpha", nevra: "alpha-1.0-1.fc45.noarch", unresolved: ["libbeta >= 2"] }] }), day(1));
    second = await save(
      report("rawhide", day(2), {
        x86_64: [
          { source: "evil", nevra: "evil-1-1.fc45.x86_64", unresolved: [HOSTILE], blame: ["beta"] },
          { source: "kappa", nevra: "kappa-1.0-1.fc45.x86_64", unresolved: ["lambda"] },
        ],
      }),
      day(2),
    );
    failed = await reports.save({ tree: "rawhide", origin: "gate", repoSetKey: "k", arches: ["x86_64"], generatedAt: day(3), dnfMs: 0, error: "Cannot download repomd.xml: <b>gone</b>" });
    other = await save(report("f44", day(1), { x86_64: [] }), day(1));
  }, 60_000);
  afterAll(() => t?.close());

  const get = async (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: "GET", url, headers: { ...(await t.auth("reader")), ...headers } });

  it("lists reports newest first, by tree, page by page", async () => {
    const all = await get("/api/v1/reports/broken-deps");
    expect(all.statusCode).toBe(200);
    // first and other share a time: the newer id first.
    expect(all.json().items.map((r: { id: string }) => r.id)).toEqual([failed.id, second.id, ...[first.id, other.id].sort().reverse()]);
    const page1 = (await get("/api/v1/reports/broken-deps?tree=rawhide&limit=2")).json();
    expect(page1.items.map((r: { id: string }) => r.id)).toEqual([failed.id, second.id]);
    expect(page1.items[0]).toMatchObject({ status: "error", error: "Cannot download repomd.xml: <b>gone</b>", url: `/reports/broken-deps/${failed.id}` });
    const page2 = (await get(`/api/v1/reports/broken-deps?tree=rawhide&limit=2&cursor=${page1.nextCursor}`)).json();
    expect(page2).toMatchObject({ items: [{ id: first.id, packages: 1, dependencies: 1, sources: 1 }], nextCursor: null });
  });

  it("serves one report in the report format, with the diff against the previous one of its tree; latest is an alias", async () => {
    const res = await get(`/api/v1/reports/broken-deps/${second.id}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ id: second.id, status: "broken", error: null, tree: "rawhide", generatedAt: day(2).toISOString() });
    expect(body.arches.x86_64[0]).toEqual({ source: "evil", nevra: "evil-1-1.fc45.x86_64", repo: "main", unresolved: [HOSTILE], blame: ["beta"] });
    expect(body.diff).toEqual({
      previous: first.id,
      newlyBroken: [
        { arch: "x86_64", source: "evil", nevra: "evil-1-1.fc45.x86_64", unresolved: [HOSTILE] },
        { arch: "x86_64", source: "kappa", nevra: "kappa-1.0-1.fc45.x86_64", unresolved: ["lambda"] },
      ],
      fixed: [{ arch: "x86_64", source: "alpha", nevra: "alpha-1.0-1.fc45.noarch", unresolved: ["libbeta >= 2"] }],
    });
    expect((await get("/api/v1/reports/broken-deps/latest?tree=rawhide")).json()).toMatchObject({ id: failed.id, status: "error", arches: {}, diff: null });
    expect((await get("/api/v1/reports/broken-deps/latest?tree=f44")).json()).toMatchObject({ id: other.id, diff: { previous: null, newlyBroken: [], fixed: [] } });
  });

  it("answers problems naming the field, and 404 for an unknown report; a reader token is needed", async () => {
    const missing = await get("/api/v1/reports/broken-deps/01HZZZZZZZZZZZZZZZZZZZZZZZ");
    expect(missing.statusCode).toBe(404);
    expect(missing.headers["content-type"]).toMatch(/application\/problem\+json/);
    expect((await get("/api/v1/reports/broken-deps/latest?tree=nothing")).statusCode).toBe(404);
    const badId = await get("/api/v1/reports/broken-deps/..%2Fetc");
    expect(badId.statusCode).toBe(400);
    expect(badId.json().errors[0]).toMatchObject({ in: "params", path: "/id" });
    const badCursor = await get("/api/v1/reports/broken-deps?cursor=bm9wZQ");
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().errors[0]).toMatchObject({ in: "query", path: "/cursor" });
    expect((await get("/api/v1/reports/broken-deps?limit=0")).json().errors[0]).toMatchObject({ path: "/limit" });
    expect((await t.app.inject({ method: "GET", url: "/api/v1/reports/broken-deps" })).statusCode).toBe(401);
    expect((await t.app.inject({ method: "GET", url: `/reports/broken-deps/${second.id}` })).statusCode).toBe(401);
  });

  it("renders the report as HTML with the dashboard's style, the diff on top, by source and owner, everything escaped", async () => {
    const res = await get(`/reports/broken-deps/${second.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.headers["content-security-policy"]).toMatch(/script-src 'self'/);
    const html = res.body;
    expect(html).toContain('<link rel="stylesheet" href="/assets/style.css">');
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &gt;= 1");
    expect(html.indexOf("Since the previous report")).toBeLessThan(html.indexOf("By source package"));
    expect(html.indexOf("Newly broken")).toBeLessThan(html.indexOf("Fixed"));
    expect(html).toContain("[evil]");
    expect(html).toContain('<a href="#src-beta">beta</a>');
    expect(html).toContain("By owner");
    const error = await get(`/reports/broken-deps/${failed.id}`);
    expect(error.body).toContain("The check could not run");
    expect(error.body).toContain("Cannot download repomd.xml: &lt;b&gt;gone&lt;/b&gt;");
    const list = await get("/reports/broken-deps?tree=rawhide");
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain(`href="/reports/broken-deps/${second.id}"`);
  });

  it("is linked from the dashboard's navigation", async () => {
    const page = await t.app.inject({ method: "GET", url: "/" });
    expect(page.body).toContain('<a href="/reports/broken-deps">Broken deps</a>');
  });

  it("shows the newest report of each tree in /metrics", async () => {
    const text = (await t.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(text).toContain('relengd_broken_deps_packages{tree="f44"} 0');
    expect(text).toMatch(/relengd_broken_deps_report_age_seconds\{tree="rawhide",status="error"\} \d/);
  });

  it("prune keeps the newest report of a tree, the diff's and the mail's baselines, and a report a waiting release was judged by", async () => {
    const db = t.database.db;
    const prune = new PruneRepository(db);
    const save = (tree: string, at: Date, extra: { error?: string } = {}) =>
      extra.error
        ? reports.save({ tree, origin: "gate", repoSetKey: "p", arches: ["x86_64"], generatedAt: at, dnfMs: 0, error: extra.error })
        : reports.save({ tree, origin: "gate", repoSetKey: "p", arches: ["x86_64"], generatedAt: at, dnfMs: 0, report: report(tree, at, { x86_64: [] }) });
    const old = (n: number) => new Date(Date.UTC(2030, 0, n));
    const gone = await save("pruned", old(1));
    const mailed = await save("pruned", old(2));
    await reports.claimMailing(mailed.id, old(2));
    const linked = await save("pruned", old(3));
    const lastGood = await save("pruned", old(4));
    const newest = await save("pruned", old(5), { error: "down" });
    // A queued release judged by `linked` (the gate's link, issue 18).
    const parsed = parseArtifact(sampleArtifact({ id: `prune-report-${provider}` }));
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    await t.evaluate.artifacts.ingest(parsed.value);
    const now = stamp(new Date());
    await db.transaction((tx) =>
      tx
        .insertInto("Release")
        .values({ id: `rel-report-${provider}`, artifactId: parsed.value.id, environment: "rawhide-compose", repository: "gitops", branch: "main", package: parsed.value.package, trigger: "policy/x", createdBy: "x", status: "queued", createdAt: now, updatedAt: now, repoclosureReportId: linked.id })
        .execute(),
    );
    const candidates = (await prune.prunableReportsBefore(new Date(Date.UTC(2031, 0, 1)), 100)).filter((r) => r.tree === "pruned").map((r) => r.id);
    expect(candidates).toEqual([gone.id]);
    const dry = await pruneBrokenDepsReports({ store: prune, now: () => new Date(Date.UTC(2031, 0, 1)) }, { olderThanSeconds: 1, dryRun: true });
    expect(dry.reports).toBeGreaterThanOrEqual(1);
    await pruneBrokenDepsReports({ store: prune, now: () => new Date(Date.UTC(2031, 0, 1)) }, { olderThanSeconds: 1, dryRun: false });
    expect(await reports.get(gone.id)).toBeNull();
    for (const kept of [mailed, linked, lastGood, newest]) expect(await reports.get(kept.id)).not.toBeNull();
    // The reports of the other tests were not old enough.
    expect(await reports.get(first.id)).not.toBeNull();
  });
});
