// /api/v1/requests: list filters and pages, show, decisions, submit and decide mapped to HTTP, problem+json
// for every refusal, and the request metrics. Real store; the use cases are FakeRequestService (test/support/requestApp.ts).
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_REQUEST_DOCUMENT_CHARS } from "../../src/api/routes/requests.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { testProviders } from "../support/database.js";
import { branchRequest, branchRequestYaml, requestApp, type RequestTestApp } from "../support/requestApp.js";

const PROBLEM = /^application\/problem\+json/;

function expectProblem(res: LightMyRequestResponse, status: number) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers["content-type"]).toMatch(PROBLEM);
  expect(res.json()).toMatchObject({ status, type: expect.stringMatching(/^https:\/\/relengd\.dev\/problems\//), detail: expect.any(String) });
  return res.json();
}

describe.each(testProviders)("/api/v1/requests on %s", (provider) => {
  let t: TestApp;
  let r: RequestTestApp;
  let reader: { authorization: string };
  let ci: { authorization: string };
  let releaser: { authorization: string };
  // Seeded in order: newest first in lists.
  const ids = {} as Record<"bashReview" | "zshApproved" | "vimDenied" | "sideTag" | "curlReview", string>;

  beforeAll(async () => {
    t = await startTestApp(provider, { writer: { pollMs: 3_600_000 } });
    r = await requestApp(t);
    reader = await t.auth("reader");
    ci = await t.auth("ci");
    releaser = await t.auth("releaser");
    const seed = async (name: keyof typeof ids, req: ReturnType<typeof branchRequest>) => (ids[name] = (await r.requests.record(req)).record.id);
    await seed("bashReview", branchRequest("bash", "f44"));
    await seed("zshApproved", branchRequest("zsh", "f44", { status: "approved", approvedBy: "policy/branch-by-maintainer", verified: true, author: "mkolman", reasons: ["approved by policy/branch-by-maintainer"] }));
    await seed("vimDenied", branchRequest("vim", "epel9", { status: "denied", author: "mkolman", reasons: ["distgit/branches/rpms/vim/epel9.yaml: RHEL 9 ships vim"] }));
    await seed("sideTag", {
      ...branchRequest("x", "y"),
      documents: [{ path: "koji/sidetags/mkolman/gnome-50.yaml", kind: "SideTag", blob: "c".repeat(40), content: "apiVersion: relengd/v1\nkind: SideTag\nspec:\n  base_tag: f44-build\n  packages: [gtk4]\n" }],
      status: "approved",
      approvedBy: "policy/sidetag-by-packager",
      decisions: [],
      author: "mkolman",
    });
    await r.requests.markMerged(ids.sideTag, "d".repeat(40), new Date("2026-03-01T10:00:07Z"));
    await seed("curlReview", branchRequest("curl", "f43"));
  });
  afterAll(async () => {
    await r?.app.close();
    await t?.close();
  });

  const stored = async (id: string) => {
    const found = await r.requests.get(id);
    if (!found) throw new Error(`request ${id} is not stored`);
    return found;
  };
  const get = (url: string, headers = reader) => r.app.inject({ method: "GET", url, headers });
  const post = (url: string, payload: object | string, headers = releaser, contentType = "application/json") =>
    r.app.inject({ method: "POST", url, payload, headers: { ...headers, "content-type": contentType } });

  describe("GET /api/v1/requests", () => {
    it("lists newest first with each request's documents (no contents) and what was decided", async () => {
      const res = await get("/api/v1/requests");
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.items.map((i: { id: string }) => i.id)).toEqual([ids.curlReview, ids.sideTag, ids.vimDenied, ids.zshApproved, ids.bashReview]);
      expect(body.nextCursor).toBeNull();
      expect(body.items[3]).toMatchObject({
        kind: "BranchRequest",
        status: "approved",
        path: "distgit/branches/rpms/zsh/f44.yaml",
        author: "mkolman",
        verified: true,
        approvedBy: "policy/branch-by-maintainer",
        documents: [{ path: "distgit/branches/rpms/zsh/f44.yaml", kind: "BranchRequest" }],
        mergeCommit: null,
        seenAt: "2026-03-01T10:00:00.000Z",
        mergedAt: null,
      });
      expect(body.items[3].documents[0]).not.toHaveProperty("content");
    });

    it("shows a merged request's merge commit and when it was merged", async () => {
      const item = (await get("/api/v1/requests?kind=SideTag")).json().items[0];
      expect(item).toMatchObject({ status: "merged", mergeCommit: "d".repeat(40), mergedAt: "2026-03-01T10:00:07.000Z", approvedBy: "policy/sidetag-by-packager" });
    });

    it("filters by kind, status and author, together", async () => {
      const idsOf = async (q: string) => (await get(`/api/v1/requests?${q}`)).json().items.map((i: { id: string }) => i.id);
      expect(await idsOf("kind=SideTag")).toEqual([ids.sideTag]);
      expect(await idsOf("status=needs-review")).toEqual([ids.curlReview, ids.bashReview]);
      expect(await idsOf("author=mkolman")).toEqual([ids.sideTag, ids.vimDenied, ids.zshApproved]);
      expect(await idsOf("author=mkolman&kind=BranchRequest&status=denied")).toEqual([ids.vimDenied]);
      expect(await idsOf("author=nobody")).toEqual([]);
    });

    it("pages with limit and nextCursor until the last page", async () => {
      const seen: string[] = [];
      let url = "/api/v1/requests?limit=2";
      for (let pages = 0; pages < 5; pages++) {
        const body = (await get(url)).json();
        seen.push(...body.items.map((i: { id: string }) => i.id));
        if (!body.nextCursor) break;
        url = `/api/v1/requests?limit=2&cursor=${encodeURIComponent(body.nextCursor)}`;
      }
      expect(seen).toEqual([ids.curlReview, ids.sideTag, ids.vimDenied, ids.zshApproved, ids.bashReview]);
    });

    it("refuses a forged cursor, an unknown status, an unknown parameter and a bad limit, naming the field", async () => {
      expect(expectProblem(await get("/api/v1/requests?cursor=not-a-cursor"), 400).errors).toEqual([{ path: "/cursor", message: expect.any(String), in: "query" }]);
      expect(expectProblem(await get("/api/v1/requests?status=merged-ish"), 400).errors[0]).toMatchObject({ path: "/status", in: "query" });
      expect(expectProblem(await get("/api/v1/requests?kind=../etc"), 400).errors[0]).toMatchObject({ path: "/kind", in: "query" });
      expect(expectProblem(await get("/api/v1/requests?package=bash"), 400).errors[0]).toMatchObject({ in: "query" });
      expect(expectProblem(await get("/api/v1/requests?limit=0"), 400).errors[0]).toMatchObject({ path: "/limit", in: "query" });
    });

    it("needs a token (401 problem)", async () => {
      expectProblem(await r.app.inject({ method: "GET", url: "/api/v1/requests" }), 401);
    });
  });

  describe("GET /api/v1/requests/unreviewed", () => {
    const forged = "e".repeat(40);

    it("answers what the poller last found, each document with the commit that brought it and the request id a forged trailer names", async () => {
      r.service.unreviewedReport = {
        repository: "gitops",
        branch: "main",
        head: "f".repeat(40),
        checkedAt: new Date("2026-03-01T10:05:00Z"),
        documents: [
          { path: "distgit/branches/rpms/nethack/f44.yaml", commit: forged, subject: "Merge request by hand", requestId: ids.bashReview },
          { path: "distgit/repos/rpms/nethack.yaml", commit: "a".repeat(40), subject: "pushed straight to main" },
          { path: "koji/sidetags/jdoe/kde.yaml", commit: null, subject: null },
        ],
      };
      const res = await get("/api/v1/requests/unreviewed");
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({
        repository: "gitops",
        branch: "main",
        head: "f".repeat(40),
        checkedAt: "2026-03-01T10:05:00.000Z",
        items: [
          { path: "distgit/branches/rpms/nethack/f44.yaml", commit: forged, subject: "Merge request by hand", requestId: ids.bashReview },
          { path: "distgit/repos/rpms/nethack.yaml", commit: "a".repeat(40), subject: "pushed straight to main" },
          { path: "koji/sidetags/jdoe/kde.yaml", commit: null, subject: null },
        ],
      });
    });

    it("says nothing was looked at yet before the poller's first look", async () => {
      r.service.unreviewedReport = { repository: "gitops", branch: "main", head: null, checkedAt: null, documents: [] };
      expect((await get("/api/v1/requests/unreviewed")).json()).toEqual({ repository: "gitops", branch: "main", head: null, checkedAt: null, items: [] });
    });

    it("is a 404 problem when no repository takes requests, and needs a token", async () => {
      r.service.unreviewedReport = undefined;
      expect(expectProblem(await get("/api/v1/requests/unreviewed"), 404).detail).toMatch(/requests are off/);
      expectProblem(await r.app.inject({ method: "GET", url: "/api/v1/requests/unreviewed" }), 401);
    });

    it("is not taken for a request id, nor a request id for it", async () => {
      r.service.unreviewedReport = { repository: "gitops", branch: "main", head: null, checkedAt: null, documents: [] };
      expect((await get("/api/v1/requests/unreviewed")).json()).not.toHaveProperty("id");
      expect((await get(`/api/v1/requests/${ids.bashReview}`)).json()).toMatchObject({ id: ids.bashReview });
      expect(expectProblem(await get("/api/v1/requests/unreviewed/decisions"), 400).errors[0]).toMatchObject({ path: "/id", in: "params" });
    });
  });

  describe("GET /api/v1/requests/{id} and /decisions", () => {
    it("shows a request with its documents' contents", async () => {
      const res = await get(`/api/v1/requests/${ids.bashReview}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: ids.bashReview, status: "needs-review", verified: false, documents: [{ path: "distgit/branches/rpms/bash/f44.yaml", content: branchRequestYaml("bash", "f44") }] });
    });

    it("explains it: each policy's outcome, with each condition true, false or unknown", async () => {
      const res = await get(`/api/v1/requests/${ids.bashReview}/decisions`);
      expect(res.statusCode).toBe(200);
      expect(res.json().items).toEqual([
        {
          policy: "branch-by-maintainer",
          path: "distgit/branches/rpms/bash/f44.yaml",
          outcome: "unmet",
          reason: "a maintainer with commit access may branch",
          conditions: [
            { name: "verifiedAuthor", value: false, detail: "the commits are not signed" },
            { name: "authorAccess", value: "unknown", detail: "packageAccess facts are not loaded" },
            { name: "releaseBranch", value: true, detail: "f44 is a release branch" },
          ],
          decidedAt: expect.any(String),
        },
      ]);
      expect((await get(`/api/v1/requests/${ids.sideTag}/decisions`)).json().items).toEqual([]);
    });

    it("answers 404 problems for an unknown id, 400 for what is not an id", async () => {
      const unknown = "01JZ3F6Q2W8M4T9V5X7Y1B3C5D";
      expect(expectProblem(await get(`/api/v1/requests/${unknown}`), 404).detail).toContain(unknown);
      expectProblem(await get(`/api/v1/requests/${unknown}/decisions`), 404);
      expect(expectProblem(await get("/api/v1/requests/..%2F..%2Fetc"), 400).errors[0]).toMatchObject({ path: "/id", in: "params" });
    });
  });

  describe("POST /api/v1/requests", () => {
    it("answers 201 with the request and its Location, passing the YAML and the token's principal to submit", async () => {
      const recorded = await r.requests.record(branchRequest("nmstate", "f44", { source: "api", verified: true, author: "test-ci", status: "needs-review" }));
      r.service.nextSubmit = () => Promise.resolve({ status: "recorded", request: recorded.record, created: true });
      const yaml = branchRequestYaml("nmstate", "f44");
      const res = await post("/api/v1/requests", { document: yaml }, ci);
      expect(res.statusCode, res.body).toBe(201);
      expect(res.headers.location).toBe(`/api/v1/requests/${recorded.record.id}`);
      expect(res.json()).toMatchObject({ id: recorded.record.id, status: "needs-review", source: "api", verified: true, documents: [{ content: yaml }] });
      const call = r.service.submitted.at(-1);
      expect(call?.text).toBe(yaml);
      expect(call?.principal).toMatchObject({ subject: "test-ci", role: "ci" });
    });

    it("answers 200 when the same revision was recorded before", async () => {
      const recorded = await stored(ids.bashReview);
      r.service.nextSubmit = () => Promise.resolve({ status: "recorded", request: recorded, created: false });
      const res = await post("/api/v1/requests", { document: branchRequestYaml("bash", "f44") }, ci);
      expect(res.statusCode).toBe(200);
      expect(res.json().id).toBe(ids.bashReview);
    });

    it("takes the YAML itself as application/yaml", async () => {
      const recorded = await stored(ids.curlReview);
      r.service.nextSubmit = () => Promise.resolve({ status: "recorded", request: recorded, created: false });
      const yaml = branchRequestYaml("curl", "f43");
      const res = await post("/api/v1/requests", yaml, ci, "application/yaml");
      expect(res.statusCode, res.body).toBe(200);
      expect(r.service.submitted.at(-1)?.text).toBe(yaml);
      const latin1 = await r.app.inject({ method: "POST", url: "/api/v1/requests", payload: Buffer.from("spec: {summary: Zoë}\n", "latin1"), headers: { ...ci, "content-type": "application/yaml" } });
      expect(expectProblem(latin1, 400).detail).toContain("UTF-8");
      const declared = await r.app.inject({ method: "POST", url: "/api/v1/requests", payload: yaml, headers: { ...ci, "content-type": "application/yaml; charset=latin1" } });
      expect(expectProblem(declared, 415).errors).toEqual([{ path: "/content-type", message: "must be application/yaml with no charset or charset=utf-8", in: "header" }]);
      expect((await post("/api/v1/requests", yaml, ci, "text/plain")).statusCode).toBe(415);
    });

    it("answers 422 request-invalid listing every problem as path:line: /field message", async () => {
      r.service.nextSubmit = () =>
        Promise.resolve({
          status: "invalid",
          problems: [
            { path: "distgit/branches/rpms/bash/f44.yaml", line: 6, field: "/spec/branch", message: "must be a branch name" },
            { path: "distgit/branches/rpms/bash/f44.yaml", line: 2, message: "unknown kind BranchRequets" },
          ],
        });
      const body = expectProblem(await post("/api/v1/requests", { document: "apiVersion: relengd/v1\n" }, ci), 422);
      expect(body.code).toBe("request-invalid");
      expect(body.detail).toBe("the document does not lint: distgit/branches/rpms/bash/f44.yaml:6: /spec/branch must be a branch name (and 1 more)");
      expect(body.problems).toEqual([
        { path: "distgit/branches/rpms/bash/f44.yaml", line: 6, field: "/spec/branch", message: "must be a branch name", text: "distgit/branches/rpms/bash/f44.yaml:6: /spec/branch must be a branch name" },
        { path: "distgit/branches/rpms/bash/f44.yaml", line: 2, message: "unknown kind BranchRequets", text: "distgit/branches/rpms/bash/f44.yaml:2: unknown kind BranchRequets" },
      ]);
      expect(body.errors).toEqual([
        { path: "/document", message: "distgit/branches/rpms/bash/f44.yaml:6: /spec/branch must be a branch name", in: "body" },
        { path: "/document", message: "distgit/branches/rpms/bash/f44.yaml:2: unknown kind BranchRequets", in: "body" },
      ]);
    });

    it("answers 403 for the use case's scope refusal, 503 with Retry-After when the GitOps repository is out of reach", async () => {
      r.service.nextSubmit = () => Promise.resolve({ status: "forbidden", reason: "token of test-ci is scoped to packages kernel and may not ask for bash" });
      expect(expectProblem(await post("/api/v1/requests", { document: branchRequestYaml("bash", "f45") }, ci), 403).detail).toContain("scoped to packages kernel");
      r.service.nextSubmit = () => Promise.resolve({ status: "unavailable", reason: "the GitOps repository fedora cannot be reached: connection refused" });
      const res = await post("/api/v1/requests", { document: branchRequestYaml("bash", "f45") }, ci);
      expect(expectProblem(res, 503).detail).toContain("cannot be reached");
      expect(res.headers["retry-after"]).toBe("5");
    });

    it("refuses a reader (403), a body without the document or with more, a lone surrogate, before calling submit", async () => {
      const before = r.service.submitted.length;
      expectProblem(await post("/api/v1/requests", { document: branchRequestYaml("bash", "f45") }, reader), 403);
      expect(expectProblem(await post("/api/v1/requests", {}, ci), 400).errors[0]).toMatchObject({ path: "/document", in: "body" });
      expect(expectProblem(await post("/api/v1/requests", { document: "x", branch: "requests/mine" }, ci), 400).errors[0]).toMatchObject({ in: "body" });
      expect(expectProblem(await post("/api/v1/requests", '{"document":"spec: \\ud800"}', ci), 400).errors[0]).toMatchObject({ path: "/document", in: "body" });
      expect(expectProblem(await post("/api/v1/requests", { document: "x".repeat(MAX_REQUEST_DOCUMENT_CHARS + 1) }, ci), 400).errors[0]).toMatchObject({ path: "/document", in: "body" });
      expectProblem(await post("/api/v1/requests", "x".repeat(300 * 1024), ci, "application/yaml"), 413);
      expect(r.service.submitted.length).toBe(before);
    });
  });

  describe("POST /api/v1/requests/{id}/approve and /deny", () => {
    it("approves a request that needs review: approvedBy user:<subject>, the reason among its reasons", async () => {
      const res = await post(`/api/v1/requests/${ids.bashReview}/approve`, { reason: "bash maintainers asked on the list" });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ status: "approved", approvedBy: "user:test-releaser", decidedBy: "user:test-releaser", decisionReason: "bash maintainers asked on the list" });
      expect(res.json().reasons.at(-1)).toBe("approved by user:test-releaser: bash maintainers asked on the list");
    });

    it("answers 409 request-not-decidable with the request's status when it cannot be approved or denied", async () => {
      const again = expectProblem(await post(`/api/v1/requests/${ids.zshApproved}/approve`, { reason: "twice" }), 409);
      expect(again).toMatchObject({ code: "request-not-decidable", requestStatus: "approved" });
      const denied = expectProblem(await post(`/api/v1/requests/${ids.vimDenied}/deny`, { reason: "again" }), 409);
      expect(denied).toMatchObject({ code: "request-not-decidable", requestStatus: "denied" });
    });

    it("denies an open request", async () => {
      const res = await post(`/api/v1/requests/${ids.curlReview}/deny`, { reason: "f43 is closed for new branches" });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: "denied", approvedBy: null, decidedBy: "user:test-releaser" });
    });

    it("refuses a reader or ci token (403), a token scoped to other packages (403), an unknown id (404), a missing reason (400)", async () => {
      const id = (await r.requests.record(branchRequest("python-requests", "f44"))).record.id;
      for (const headers of [reader, ci]) {
        expectProblem(await post(`/api/v1/requests/${id}/approve`, { reason: "x" }, headers), 403);
        expectProblem(await post(`/api/v1/requests/${id}/deny`, { reason: "x" }, headers), 403);
      }
      const kernelOnly = await t.auth("releaser", { packages: ["kernel"] });
      expect(expectProblem(await post(`/api/v1/requests/${id}/approve`, { reason: "x" }, kernelOnly), 403).detail).toMatch(/scoped to packages kernel/);
      expect(expectProblem(await post("/api/v1/requests/01JZ3F6Q2W8M4T9V5X7Y1B3C5D/deny", { reason: "x" }), 404).detail).toContain("01JZ3F6Q2W8M4T9V5X7Y1B3C5D");
      expect(expectProblem(await post(`/api/v1/requests/${id}/approve`, {}), 400).errors[0]).toMatchObject({ path: "/reason", in: "body" });
      expect(expectProblem(await post(`/api/v1/requests/${id}/approve`, { reason: "   " }), 400).errors[0]).toMatchObject({ path: "/reason", in: "body" });
      const scoped = await t.auth("releaser", { packages: ["python-*"] });
      expect((await post(`/api/v1/requests/${id}/approve`, { reason: "in scope" }, scoped)).statusCode).toBe(200);
    });
  });

  describe("the OpenAPI document and the metrics", () => {
    it("documents every request route with an operationId, its errors as problems, under the requests tag", async () => {
      const doc = (await r.app.inject({ method: "GET", url: "/openapi.json" })).json();
      const ops: Record<string, string> = {
        "get /api/v1/requests": "listRequests",
        "post /api/v1/requests": "submitRequest",
        "get /api/v1/requests/{id}": "getRequest",
        "get /api/v1/requests/{id}/decisions": "listRequestDecisions",
        "post /api/v1/requests/{id}/approve": "approveRequest",
        "post /api/v1/requests/{id}/deny": "denyRequest",
      };
      for (const [key, operationId] of Object.entries(ops)) {
        const [method = "", path = ""] = key.split(" ");
        const op = doc.paths[path]?.[method];
        expect(op, key).toBeDefined();
        expect(op).toMatchObject({ operationId, tags: ["requests"] });
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["400", "401", "403"]));
      }
      expect(doc.components.schemas).toHaveProperty("Request");
      expect(doc.components.schemas).toHaveProperty("RequestSummary");
      expect(doc.components.schemas).toHaveProperty("RequestDecision");
    });

    it("exports requests by kind and status at scrape, and the decision and merge times the use cases report", async () => {
      r.metrics.requestDecided("BranchRequest", 2.2);
      r.metrics.requestMerged("BranchRequest", 4.5);
      const text = (await r.app.inject({ method: "GET", url: "/metrics" })).body;
      const counts = await r.requests.counts();
      for (const c of counts) expect(text).toContain(`relengd_requests{kind="${c.kind}",status="${c.status}"} ${c.count}\n`);
      expect(text).toContain('relengd_requests{kind="SideTag",status="denied"} 0\n');
      expect(text).toMatch(/relengd_request_decision_seconds_bucket\{le="2.5",kind="BranchRequest"\} 1\n/);
      expect(text).toMatch(/relengd_request_merge_seconds_count\{kind="BranchRequest"\} 1\n/);
    });
  });
});

describe("GET /api/v1/requests/unreviewed as the application wires it", () => {
  it("is a 404 problem when requests are off", async () => {
    const off = await startTestApp("sqlite");
    try {
      const res = await off.app.inject({ method: "GET", url: "/api/v1/requests/unreviewed", headers: await off.auth("reader") });
      expectProblem(res, 404);
    } finally {
      await off.close();
    }
  });

  it("says not checked yet before the poller's first look, then the target branch's head and what it found", async () => {
    const on = await startTestApp("sqlite", { requests: { pollMs: 3_600_000 } });
    try {
      const reader = await on.auth("reader");
      const get = async () => (await on.app.inject({ method: "GET", url: "/api/v1/requests/unreviewed", headers: reader })).json();
      expect(await get()).toEqual({ repository: "gitops", branch: "main", head: null, checkedAt: null, items: [] });
      const poller = on.application.requests?.poller;
      if (!poller) throw new Error("requests are not wired");
      await poller.pollOnce();
      // The test's remote has no commit yet: looked at, nothing there.
      expect(await get()).toMatchObject({ repository: "gitops", branch: "main", head: null, items: [], checkedAt: expect.any(String) });
    } finally {
      await on.close();
    }
  });
});
