// The dashboard's read-only endpoints: overview, environment state, a release's timeline and
// document, on a store seeded through the real API and writer; and anonymous read, off by default.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorsPlugin } from "../../src/api/plugins/errors.js";
import { requestValidatorCompiler } from "../../src/api/request.js";
import { responseSerializerCompiler } from "../../src/api/response.js";
import { DEFAULT_WEB_DIR, dashboardRoutes } from "../../src/api/routes/dashboard.js";
import { decodePackageCursor, encodePackageCursor } from "../../src/api/routes/environments.js";
import { overviewRoutes } from "../../src/api/routes/overview.js";
import { OverviewRepository } from "../../src/store/overviewRepository.js";
import { isDatabaseUnavailable } from "../../src/store/storeFailure.js";
import { loadConfig } from "../../src/config.js";
import { testProviders } from "../support/database.js";
import { cloneRemote } from "../support/remote.js";
import { anonymousReadApp, nvrOf, rawhideBuild, seed, type Seeded } from "./seed.js";

describe.each(testProviders)("dashboard endpoints on %s", (provider) => {
  let s: Seeded;
  const get = (url: string, headers: Record<string, string> = s.reader) => s.t.app.inject({ method: "GET", url, headers });

  beforeAll(async () => {
    s = await seed(provider);
  }, 60_000);
  afterAll(async () => s?.close());

  it("overview: queue per repository with the release taken next, the last day's outcomes, freezes and the bus", async () => {
    const res = await get("/api/v1/overview");
    expect(res.statusCode, res.body).toBe(200);
    const o = res.json();
    expect(o.last24h).toMatchObject({ pushed: 3, failed: 1, blocked: 1, superseded: 0 });
    // Declared repositories are listed even when empty; the undeclared one that has a release waiting too.
    expect(o.queue).toEqual([
      { repository: "broken", branch: "main", queued: 0, committed: 0, depth: 0, oldest: null },
      {
        repository: "ghost-repo",
        branch: "main",
        queued: 1,
        committed: 0,
        depth: 1,
        oldest: expect.objectContaining({ id: s.queuedReleaseId, package: "python-requests", environment: "ghost", attempts: 0 }),
      },
      { repository: "gitops", branch: "main", queued: 0, committed: 0, depth: 0, oldest: null },
    ]);
    expect(o.freezes).toEqual([
      expect.objectContaining({ environment: "f44-updates-testing", reason: s.activeFreeze.reason, active: true }),
      expect.objectContaining({ environment: "rawhide", reason: s.upcomingFreeze.reason, active: false }),
    ]);
    expect(o.bus).toEqual({ lastMessage: null, waitingResults: 0, sinceStart: {} });
    // The newest releases first, each with the build it puts in its environment, a blocked one with its reason.
    const newest = s.pushed[2] as (typeof s.pushed)[number];
    expect(o.latest.find((r: { id: string }) => r.id === newest.releaseId)).toMatchObject({ package: "python-requests", environment: "rawhide", status: "pushed", nvrs: [newest.nvr] });
    expect(o.latest.find((r: { id: string }) => r.id === s.blockedReleaseId)).toMatchObject({ status: "blocked", reason: expect.stringContaining("environment retired is no longer declared") });
    expect(o.latest[0]).toMatchObject({ id: s.queuedReleaseId });
  });

  it("overview counts a new push and a new queued release", async () => {
    const a = rawhideBuild("bash", "5.2.37");
    expect((await s.t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: s.ci })).statusCode).toBe(201);
    await s.t.writer.idle();
    const extra = await s.t.releases.enqueue({ artifactId: a.id, environment: "ghost", repository: "ghost-repo", branch: "main", package: "bash", trigger: "user:x", createdBy: "x", force: false });
    expect(extra.status).toBe("queued");
    const o = (await get("/api/v1/overview")).json();
    expect(o.last24h.pushed).toBe(4);
    const ghost = o.queue.find((q: { repository: string }) => q.repository === "ghost-repo");
    // Still the older release first: the writer drains in queue order.
    expect(ghost).toMatchObject({ depth: 2, queued: 2, oldest: { id: s.queuedReleaseId } });
  });

  it("environment-state cursors round-trip and only package names come back out", () => {
    expect(decodePackageCursor(encodePackageCursor("libsigc++20"))).toBe("libsigc++20");
    expect(decodePackageCursor(Buffer.from("s12").toString("base64url"))).toBeUndefined();
  });

  it("environment state: package → NVR of the newest pushed release, latest wins", async () => {
    const res = await get("/api/v1/environments/rawhide/state");
    expect(res.statusCode, res.body).toBe(200);
    const state = res.json();
    const newest = s.pushed[2] as Seeded["pushed"][number];
    expect(state).toMatchObject({ environment: "rawhide", kind: "KojiTag", pending: 0, nextCursor: null });
    expect(state.items.map((i: { package: string; nvrs: string[] }) => [i.package, i.nvrs])).toEqual([
      ["bash", ["bash-5.2.37-1.fc45"]],
      ["nmstate", [(s.pushed[1] as Seeded["pushed"][number]).nvr]],
      ["python-requests", [newest.nvr]],
    ]);
    expect(state.items[2]).toMatchObject({ releaseId: newest.releaseId, artifactId: newest.artifact.id, trigger: "policy/rawhide-auto", commitSha: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(state.freezes).toEqual([expect.objectContaining({ reason: s.upcomingFreeze.reason, active: false })]);
  });

  it("environment state pages by package name and filters by prefix", async () => {
    const first = (await get("/api/v1/environments/rawhide/state?limit=2")).json();
    expect(first.items.map((i: { package: string }) => i.package)).toEqual(["bash", "nmstate"]);
    expect(decodePackageCursor(first.nextCursor)).toBe("nmstate");
    const second = (await get(`/api/v1/environments/rawhide/state?limit=2&cursor=${first.nextCursor}`)).json();
    expect(second.items.map((i: { package: string }) => i.package)).toEqual(["python-requests"]);
    expect(second.nextCursor).toBeNull();
    const prefixed = (await get("/api/v1/environments/rawhide/state?package=python-")).json();
    expect(prefixed.items.map((i: { package: string }) => i.package)).toEqual(["python-requests"]);
    const none = (await get("/api/v1/environments/f44-updates-testing/state")).json();
    expect(none).toMatchObject({ kind: "BodhiUpdate", items: [], nextCursor: null, freezes: [expect.objectContaining({ active: true })] });
  });

  it("environment state refuses bad input with a problem naming the field", async () => {
    const cases: [string, number, string][] = [
      ["/api/v1/environments/rawhide/state?limit=0", 400, "/limit"],
      ["/api/v1/environments/rawhide/state?limit=501", 400, "/limit"],
      ["/api/v1/environments/rawhide/state?cursor=bm90LW91cnM", 400, "/cursor"],
      [`/api/v1/environments/rawhide/state?cursor=${Buffer.from("p../etc").toString("base64url")}`, 400, "/cursor"],
      ["/api/v1/environments/rawhide/state?package=%2Fetc", 400, "/package"],
      ["/api/v1/environments/rawhide/state?colour=red", 400, ""],
      ["/api/v1/environments/Not..Valid/state", 400, "/name"],
    ];
    for (const [url, status, field] of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(status);
      expect(res.headers["content-type"]).toContain("application/problem+json");
      if (field) expect(res.json().errors?.[0]?.path, url).toBe(field);
    }
    const missing = await get("/api/v1/environments/nowhere/state");
    expect(missing.statusCode).toBe(404);
    expect(missing.json().detail).toContain("no environment nowhere");
  });

  it("release timeline: the decision that fired, queued, pushed with its commit", async () => {
    const p = s.pushed[0] as Seeded["pushed"][number];
    const res = await get(`/api/v1/releases/${p.releaseId}/timeline`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.status).toBe("pushed");
    expect(body.entries.map((e: { state: string }) => e.state)).toEqual(["decided", "queued", "pushed"]);
    expect(body.entries[0].detail).toContain("policy rawhide-auto fired");
    expect(body.entries[1].detail).toBe("by policy/rawhide-auto (policy/rawhide-auto)");
    const release = (await get(`/api/v1/releases/${p.releaseId}`)).json();
    expect(body.entries[2]).toEqual({ state: "pushed", at: release.pushedAt, detail: `commit ${release.commitSha} pushed to gitops/main` });
    expect(body.decision).toMatchObject({ policy: "rawhide-auto", event: "artifact" });
  });

  it("release timeline of a failed and a blocked release says why", async () => {
    const failed = (await get(`/api/v1/releases/${s.failedReleaseId}/timeline`)).json();
    expect(failed.entries.map((e: { state: string }) => e.state)).toEqual(["queued", "failed"]);
    expect(failed.entries[1].detail).toMatch(/^after 1 attempt: /);
    expect(failed.decision).toBeNull();
    const blocked = (await get(`/api/v1/releases/${s.blockedReleaseId}/timeline`)).json();
    expect(blocked.entries.at(-1)).toMatchObject({ state: "blocked", detail: expect.stringContaining("environment retired is no longer declared") });
  });

  it("release document: the file and the commit message the writer pushed, trailers included", async () => {
    const p = s.pushed[2] as Seeded["pushed"][number];
    const res = await get(`/api/v1/releases/${p.releaseId}/document`);
    expect(res.statusCode, res.body).toBe(200);
    const doc = res.json();
    expect(doc).toMatchObject({ releaseId: p.releaseId, kind: "KojiTag", path: "koji/tags/f45/python-requests.yaml" });
    const clone = cloneRemote(s.t.remote);
    try {
      expect(doc.content).toBe(clone.read("koji/tags/f45/python-requests.yaml"));
      const commit = clone.log().find((c) => c.release?.releaseId === p.releaseId);
      expect(commit?.sha).toBe(doc.commit.sha);
      expect(doc.commit.message).toBe(commit?.message.trimEnd() + "\n");
    } finally {
      clone.dispose();
    }
    expect(doc.commit.subject).toBe(`koji-tag: ${p.nvr} → f45`);
    expect(doc.commit.trailers).toEqual([
      { name: "Relengd-Release-Id", value: p.releaseId },
      { name: "Relengd-Artifact-Id", value: p.artifact.id },
      { name: "Relengd-Environment", value: "rawhide" },
      { name: "Relengd-Trigger", value: "policy/rawhide-auto" },
      { name: "Relengd-Nvr", value: nvrOf(p.artifact) },
    ]);
  });

  it("release document of an environment that is gone is a 422 in words; unknown and malformed ids are 404 and 400", async () => {
    const gone = await get(`/api/v1/releases/${s.blockedReleaseId}/document`);
    expect(gone.statusCode).toBe(422);
    expect(gone.json().detail).toContain("environment retired is no longer declared");
    const unknown = await get("/api/v1/releases/01J0000000000000000000000Z/timeline");
    expect(unknown.statusCode).toBe(404);
    const malformed = await get("/api/v1/releases/not-a-ulid/document");
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().errors[0]).toMatchObject({ in: "params", path: "/id" });
  });

  it("needs a reader token unless anonymous read is on (it is off by default)", async () => {
    for (const url of ["/api/v1/overview", "/api/v1/environments/rawhide/state", `/api/v1/releases/${s.queuedReleaseId}/timeline`, `/api/v1/releases/${s.queuedReleaseId}/document`]) {
      const res = await get(url, {});
      expect(res.statusCode, url).toBe(401);
      expect(res.headers["content-type"]).toContain("application/problem+json");
    }
  });

  it("with anonymous read on, reader routes answer without a token; a sent token is still checked; writes still need one", async () => {
    const anon = await anonymousReadApp(s.t);
    try {
      for (const url of ["/api/v1/overview", "/api/v1/environments/rawhide/state", `/api/v1/releases/${s.queuedReleaseId}/timeline`, "/api/v1/artifacts", "/api/v1/holds"]) {
        expect((await anon.inject({ method: "GET", url })).statusCode, url).toBe(200);
      }
      const bad = await anon.inject({ method: "GET", url: "/api/v1/overview", headers: { authorization: "Bearer not.a.token" } });
      expect(bad.statusCode).toBe(401);
      const push = await anon.inject({ method: "POST", url: "/api/v1/artifacts", payload: rawhideBuild("zsh", "5.9") });
      expect(push.statusCode).toBe(401);
      const hold = await anon.inject({ method: "POST", url: "/api/v1/holds", payload: { environment: "rawhide", package: "zsh", reason: "no" } });
      expect(hold.statusCode).toBe(401);
    } finally {
      await anon.close();
    }
  });

  it("serves the page and its assets without a token, with a policy that loads nothing from elsewhere", async () => {
    const page = await get("/", {});
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(page.headers["content-security-policy"]).toContain("connect-src 'self'");
    expect(page.body).toContain('<script type="module" src="/assets/app.js"></script>');
    // Every script and stylesheet the page names is served from here.
    for (const asset of [...page.body.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] as string)) {
      const res = await get(asset, {});
      expect(res.statusCode, asset).toBe(200);
    }
    const js = await get("/assets/pages/releases.js", {});
    expect(js.headers["content-type"]).toContain("javascript");
    expect(js.body).not.toMatch(/https?:\/\/(?!koji\.fedoraproject\.org)/);
    expect((await get("/assets/../package.json", {})).statusCode).toBe(404);
    // No listing of the folder: refused as a problem, like every other error.
    const folder = await get("/assets/pages/", {});
    expect(folder.statusCode).toBe(403);
    expect(folder.headers["content-type"]).toContain("application/problem+json");
  });
});

describe("dashboard files", () => {
  it("are found beside src/ and dist/ alike: both sit one level below the package root", () => {
    expect(DEFAULT_WEB_DIR).toBe(path.resolve(__dirname, "../../src/web") + path.sep);
    const fromDist = new URL("../../../src/web/", "file:///opt/relengd/dist/api/routes/dashboard.js");
    expect(fromDist.pathname).toBe("/opt/relengd/src/web/");
  });

  it("missing: the API is still served and / says what is missing", async () => {
    const s = await seed("sqlite");
    const empty = mkdtempSync(path.join(tmpdir(), "relengd-no-web-"));
    const app = Fastify({ logger: false });
    try {
      app.setValidatorCompiler(requestValidatorCompiler);
      app.setSerializerCompiler(responseSerializerCompiler(true));
      await app.register(errorsPlugin, { isDatabaseUnavailable });
      await app.register(dashboardRoutes, { webDir: empty });
      await app.register(overviewRoutes, { overview: new OverviewRepository(s.t.database.db), environments: () => s.t.policies.environments() });
      const page = await app.inject({ method: "GET", url: "/" });
      expect(page.statusCode).toBe(404);
      expect(page.headers["content-type"]).toContain("application/problem+json");
      expect(page.json().detail).toContain("the web dashboard's files are not installed");
      expect((await app.inject({ method: "GET", url: "/assets/app.js" })).statusCode).toBe(404);
      const overview = await app.inject({ method: "GET", url: "/api/v1/overview" });
      expect(overview.statusCode).toBe(200);
      expect(overview.json().last24h.pushed).toBe(3);
    } finally {
      await app.close();
      rmSync(empty, { recursive: true, force: true });
      await s.close();
    }
  }, 60_000);
});

describe("RELENGD_ANONYMOUS_READ", () => {
  it("is off unless set to true, and refuses anything but true or false", () => {
    expect(loadConfig({}).anonymousRead).toBe(false);
    expect(loadConfig({ RELENGD_ANONYMOUS_READ: "true" }).anonymousRead).toBe(true);
    expect(loadConfig({ RELENGD_ANONYMOUS_READ: "false" }).anonymousRead).toBe(false);
    expect(() => loadConfig({ RELENGD_ANONYMOUS_READ: "yes" })).toThrow(/RELENGD_ANONYMOUS_READ: must be true or false/);
  });
});
