import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { testProviders } from "../support/database.js";

describe.each(testProviders)("artifacts API on %s", (provider) => {
  let t: TestApp;
  let ci: { authorization: string };
  let reader: { authorization: string };

  beforeAll(async () => {
    t = await startTestApp(provider);
    ci = await t.auth("ci");
    reader = await t.auth("reader");
  });
  afterAll(async () => t?.close());

  const push = (body: unknown, headers = ci) => t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: body as object, headers });
  const get = (url: string) => t.app.inject({ method: "GET", url, headers: reader });

  it("stores a new artifact with 201 and shows it back", async () => {
    const a = sampleArtifact();
    const res = await push(a);
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).toBe(`/api/v1/artifacts/${a.id}`);
    expect(res.json()).toMatchObject({ id: a.id, status: "created", digest: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const shown = await get(`/api/v1/artifacts/${a.id}`);
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toMatchObject({ ...a, results: [], createdAt: expect.any(String) });
  });

  it("answers 200 to a re-push of the same body, in any key order", async () => {
    const a = sampleArtifact();
    expect((await push(a)).statusCode).toBe(201);
    const again = await push(Object.fromEntries(Object.entries(a).reverse()));
    expect(again.statusCode).toBe(200);
    expect(again.json().status).toBe("unchanged");
  });

  it("answers 409 to the same id with a different body and keeps the first", async () => {
    const a = sampleArtifact();
    await push(a);
    const res = await push({ ...a, source: { ...a.source, branch: "f42" } });
    expect(res.statusCode).toBe(409);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.json()).toMatchObject({ status: 409, id: a.id, existingDigest: expect.any(String) });
    expect((await get(`/api/v1/artifacts/${a.id}`)).json().source.branch).toBe("f41");
  });

  it("rejects an invalid artifact with problem+json naming the field, and stores nothing", async () => {
    const a = sampleArtifact({ items: [{ kind: "koji-build", nvr: "broken" }] });
    const res = await push(a);
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    const body = res.json();
    expect(body.detail).toContain("/items/0/nvr");
    expect(body.errors[0]).toMatchObject({ path: "/items/0/nvr", in: "body" });
    expect((await get(`/api/v1/artifacts/${a.id}`)).statusCode).toBe(404);
  });

  it("rejects unknown fields and unknown item kinds with 400", async () => {
    expect((await push({ ...sampleArtifact(), colour: "blue" })).json().detail).toMatch(/colour/);
    const res = await push({ ...sampleArtifact(), items: [{ kind: "container", image: "x" }] });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].path).toBe("/items/0/kind");
  });

  it("answers malformed JSON with 400, a wrong content type with 415, a huge body with 413", async () => {
    const bad = await t.app.inject({ method: "POST", url: "/api/v1/artifacts", headers: { ...ci, "content-type": "application/json" }, payload: "{nope" });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers["content-type"]).toContain("application/problem+json");
    const text = await t.app.inject({ method: "POST", url: "/api/v1/artifacts", headers: { ...ci, "content-type": "text/plain" }, payload: "hello" });
    expect(text.statusCode).toBe(415);
    expect(text.headers["content-type"]).toContain("application/problem+json");
    const huge = sampleArtifact({ context: { BIG: "x".repeat(4000) } });
    const big = { ...huge, items: Array.from({ length: 400 }, (_, i) => ({ kind: "link", name: `l${i}`, url: `https://example.org/${"y".repeat(800)}` })) };
    const res = await push(big);
    expect(res.statusCode).toBe(413);
    expect(res.headers["content-type"]).toContain("application/problem+json");
  });

  it("answers unknown artifacts and routes with 404 problem+json", async () => {
    const res = await get("/api/v1/artifacts/does-not-exist");
    expect(res.statusCode).toBe(404);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect((await get("/api/v1/nothing")).statusCode).toBe(404);
    expect((await get("/api/v1/artifacts/a%2Fb")).statusCode).toBe(400);
  });

  describe("queries", () => {
    const pkg = `pkg-query-${provider}`;
    const ids: string[] = [];

    beforeAll(async () => {
      for (let i = 0; i < 7; i++) {
        const a = sampleArtifact({
          package: pkg,
          release: i % 2 === 0 ? "f41" : "rawhide",
          source: {
            repo: `https://src.fedoraproject.org/rpms/${pkg}.git`,
            sha: `abcdef${i}`,
            branch: i % 2 === 0 ? "f41" : "rawhide",
            event: i === 6 ? "pr" : "build",
          },
        });
        ids.push(a.id);
        expect((await push(a)).statusCode).toBe(201);
      }
    });

    const list = async (q: string) => {
      const res = await get(`/api/v1/artifacts?${q}`);
      expect(res.statusCode).toBe(200);
      return res.json() as { items: { id: string }[]; nextCursor: string | null };
    };

    it("lists one package's artifacts newest first", async () => {
      const page = await list(`package=${pkg}`);
      expect(page.items.map((i) => i.id)).toEqual([...ids].reverse());
      expect(page.nextCursor).toBeNull();
    });

    it("filters by release, branch, sha, event and NVR", async () => {
      expect((await list(`package=${pkg}&release=rawhide`)).items).toHaveLength(3);
      expect((await list(`package=${pkg}&branch=f41`)).items).toHaveLength(4);
      expect((await list(`sha=abcdef3`)).items.map((i) => i.id)).toEqual([ids[3]]);
      expect((await list(`package=${pkg}&event=pr`)).items.map((i) => i.id)).toEqual([ids[6]]);
      const shown = (await get(`/api/v1/artifacts/${ids[2]}`)).json() as { items: { kind: string; nvr?: string }[] };
      const nvr = shown.items.find((i) => i.kind === "koji-build")?.nvr;
      expect((await list(`nvr=${nvr}`)).items.map((i) => i.id)).toEqual([ids[2]]);
    });

    it("filters by time window", async () => {
      const future = new Date(Date.now() + 3600_000).toISOString();
      expect((await list(`package=${pkg}&since=${future}`)).items).toHaveLength(0);
      expect((await list(`package=${pkg}&until=${future}`)).items).toHaveLength(7);
      const bad = await get(`/api/v1/artifacts?since=${future}&until=2000-01-01T00:00:00Z`);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().errors[0].path).toBe("/until");
    });

    it("pages with a cursor until the end, without repeats or gaps", async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: { id: string }[]; nextCursor: string | null } = await list(`package=${pkg}&limit=3${cursor ? `&cursor=${cursor}` : ""}`);
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
    });

    it("rejects a forged cursor and bad query values with 400 naming the parameter", async () => {
      const forged = await get(`/api/v1/artifacts?cursor=${Buffer.from("x1").toString("base64url")}`);
      expect(forged.statusCode).toBe(400);
      expect(forged.json().errors[0]).toMatchObject({ path: "/cursor", in: "query" });
      expect((await get(`/api/v1/artifacts?limit=0`)).json().errors[0].path).toBe("/limit");
      expect((await get(`/api/v1/artifacts?event=merge`)).json().errors[0].path).toBe("/event");
      expect((await get(`/api/v1/artifacts?colour=blue`)).statusCode).toBe(400);
    });
  });

  describe("appended results", () => {
    const results = (id: string, body: unknown) =>
      t.app.inject({ method: "POST", url: `/api/v1/artifacts/${id}/results`, payload: body as object, headers: ci });

    it("appends results as their own rows and shows them with the artifact", async () => {
      const a = sampleArtifact();
      await push(a);
      const res = await results(a.id, {
        results: [
          { kind: "ci-result", testcase: "fedora-ci.koji-build.tier0.functional", outcome: "RUNNING", refUrl: "https://tf.example/1" },
          { kind: "ci-result", testcase: "dist.rpmdeplint", outcome: "PASSED" },
        ],
      });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ added: 2, updated: 0, unchanged: 0 });
      const shown = (await get(`/api/v1/artifacts/${a.id}`)).json();
      expect(shown.results.map((r: { testcase: string }) => r.testcase)).toEqual(["fedora-ci.koji-build.tier0.functional", "dist.rpmdeplint"]);
      // The artifact core is untouched by appended results.
      expect(shown.items).toEqual(a.items);
    });

    it("is idempotent per testcase and refUrl: the same result again changes nothing, a new outcome updates", async () => {
      const a = sampleArtifact();
      await push(a);
      const r = { kind: "ci-result", testcase: "fedora-ci.koji-build.tier0.functional", outcome: "RUNNING", refUrl: "https://tf.example/2" };
      await results(a.id, { results: [r] });
      const same = await results(a.id, { results: [r] });
      expect(same.statusCode).toBe(200);
      expect(same.json()).toMatchObject({ added: 0, updated: 0, unchanged: 1 });
      const done = await results(a.id, { results: [{ ...r, outcome: "PASSED" }] });
      expect(done.json()).toMatchObject({ added: 0, updated: 1 });
      const other = await results(a.id, { results: [{ ...r, refUrl: "https://tf.example/3" }] });
      expect(other.json()).toMatchObject({ added: 1 });
      const shown = (await get(`/api/v1/artifacts/${a.id}`)).json();
      expect(shown.results.map((x: { outcome: string }) => x.outcome)).toEqual(["PASSED", "RUNNING"]);
    });

    it("rejects results for an unknown artifact (404) and results of another kind (400)", async () => {
      expect((await results("nope", { results: [{ kind: "ci-result", testcase: "t", outcome: "PASSED" }] })).statusCode).toBe(404);
      const a = sampleArtifact();
      await push(a);
      const res = await results(a.id, { results: [{ kind: "koji-build", nvr: "a-1-1" }] });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors[0].path).toBe("/results/0/kind");
    });
  });

  it("stores every one of many concurrent pushes exactly once (group commit)", async () => {
    const pkg = `burst-${provider}`;
    const batch = Array.from({ length: 120 }, () => sampleArtifact({ package: pkg }));
    // Every artifact twice, concurrently: one 201 and one 200 each, whichever lands first.
    const responses = await Promise.all([...batch, ...batch].map((a) => push(a)));
    const codes = responses.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(120);
    expect(codes.filter((c) => c === 200)).toHaveLength(120);
    const page = (await get(`/api/v1/artifacts?package=${pkg}&limit=500`)).json();
    expect(page.items).toHaveLength(120);
  });

  it("stores an artifact with hundreds of builds (statements are cut under the bind-parameter limit)", async () => {
    const items = Array.from({ length: 400 }, (_, i) => ({ kind: "koji-build" as const, nvr: `kde-part${i}-6.0-1.fc41`, sideTag: "f41-build-side-4242" }));
    const a = sampleArtifact({ package: "kde-part0", items });
    expect((await push(a)).statusCode).toBe(201);
    const found = (await get(`/api/v1/artifacts?nvr=kde-part399-6.0-1.fc41`)).json();
    expect(found.items.map((i: { id: string }) => i.id)).toEqual([a.id]);
  });

  it("answers the probes without a token", async () => {
    expect((await t.app.inject({ method: "GET", url: "/healthz" })).json()).toEqual({ status: "ok" });
    expect((await t.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  });
});

// A CLI verb writing to the server's SQLite file (token revoke, prune) holds its lock meanwhile.
describe("artifacts API on sqlite while another process holds the write lock", () => {
  let t: TestApp;
  let other: BetterSqlite3.Database;
  beforeAll(async () => {
    t = await startTestApp("sqlite", { busyTimeoutMs: 1500 });
    other = new BetterSqlite3(t.database.db.target.location);
  });
  afterAll(async () => {
    if (other?.inTransaction) other.exec("ROLLBACK");
    other?.close();
    await t?.close();
  });

  it("keeps answering while a push waits, and stores the push once the lock is released", async () => {
    const ci = await t.auth("ci");
    const a = sampleArtifact();
    other.exec("BEGIN IMMEDIATE");
    const waiting = t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: ci });
    // Were the push waiting inside the driver, the thread would be held until the busy timeout
    // ran out: neither this timer nor the COMMIT after it could run before the push was refused.
    await new Promise((r) => setTimeout(r, 200));
    expect((await t.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    other.exec("COMMIT");
    expect((await waiting).statusCode).toBe(201);
  });

  it("answers 503 with Retry-After past the busy timeout, stores nothing, and takes the retry", async () => {
    const ci = await t.auth("ci");
    const a = sampleArtifact();
    const push = () => t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: ci });
    other.exec("BEGIN IMMEDIATE");
    const refused = await push();
    expect(refused.statusCode).toBe(503);
    expect(refused.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(refused.headers["retry-after"]).toBe("5");
    expect(refused.json()).toMatchObject({ status: 503, type: expect.stringMatching(/database-unavailable$/) });
    other.exec("COMMIT");
    expect((await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${a.id}`, headers: ci })).statusCode).toBe(404);
    expect((await push()).statusCode).toBe(201);
  });
});
