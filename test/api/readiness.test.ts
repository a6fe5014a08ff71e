// /readyz: not ready once a GitOps remote has been unreachable for longer than the
// bound; ready again once it answers. (A database that goes away: test/failure/postgresRestart.)
// The same for a writer failing every attempt for any other cause, with the cause in
// the answer and in a gauge.
import { sql } from "kysely";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import { Workspace } from "../../src/gitops/workspace.js";
import { parseEnvironments } from "../../src/policy/environments.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { testProviders } from "../support/database.js";

const SHIPPED_ENVIRONMENTS = path.resolve(__dirname, "../../policies/environments.yaml");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(testProviders)("readiness on %s", (provider) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function ready(t: TestApp) {
    const res = await t.app.inject({ method: "GET", url: "/readyz" });
    return { status: res.statusCode, type: res.headers["content-type"], body: res.json() as Record<string, unknown> };
  }

  it("fails once a remote has been unreachable past the bound, naming it, and recovers when it answers", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "relengd-ready-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const remote = path.join(dir, "gitops.git"); // not there yet
    const environments = parseEnvironments(readFileSync(SHIPPED_ENVIRONMENTS, "utf8"), "environments.yaml", remote);
    const t = await startTestApp(provider, { environments, readyRemoteBoundMs: 300, writer: { retryDelayMs: () => 200, pollMs: 100 } });
    cleanups.push(() => t.close());
    expect(await ready(t)).toMatchObject({ status: 200, body: { status: "ready", checks: { database: "ok", gitops: "ok" } } });

    const ci = await t.auth("ci");
    const releaser = await t.auth("releaser");
    const a = sampleArtifact({ package: "ready-pkg" });
    expect((await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: ci })).statusCode).toBe(201);
    expect((await t.app.inject({ method: "POST", url: "/api/v1/releases", payload: { artifactId: a.id, environment: "rawhide" }, headers: releaser })).statusCode).toBe(202);

    // Unreachable, but not yet for longer than the bound: still ready.
    for (let i = 0; i < 200 && !t.writer.health().some((h) => h.unreachableSince); i++) await sleep(20);
    let r = await ready(t);
    expect(r.status).toBe(200);
    await sleep(400);
    r = await ready(t);
    expect(r.status).toBe(503);
    expect(r.type).toContain("application/problem+json");
    expect(r.body).toMatchObject({ status: 503, checks: { database: "ok", gitops: "failing" }, unreachable: [{ repository: "gitops" }] });
    expect(String(r.body.detail)).toContain("repository gitops has been unreachable since");

    await ensureBareRepository(remote);
    for (let i = 0; i < 200 && (await ready(t)).status !== 200; i++) await sleep(50);
    expect(await ready(t)).toMatchObject({ status: 200, body: { checks: { gitops: "ok" } } });
  });

  it("fails once the writer has failed every attempt past the bound for a local cause, saying why, and recovers", async () => {
    const policies = mkdtempSync(path.join(tmpdir(), "relengd-ready-policies-"));
    cleanups.push(() => rmSync(policies, { recursive: true, force: true }));
    copyFileSync(SHIPPED_ENVIRONMENTS, path.join(policies, "environments.yaml"));
    // The clock the writer's failures and the probe are judged by: moved, never waited for.
    let now = Date.parse("2030-03-01T12:00:00Z");
    const t = await startTestApp(provider, { policiesDir: policies, readyRemoteBoundMs: 60_000, clock: () => new Date(now), writer: { retryDelayMs: () => 100, pollMs: 100 } });
    cleanups.push(() => t.close());

    // The workspace, with a ref lock held by a process that works in it and does not end: a hung git.
    const workspace = path.join(path.dirname(t.remote), "workspaces", "gitops.git");
    await new Workspace(workspace, t.remote, "main").open();
    const lock = path.join(workspace, "refs/remotes/origin/main.lock");
    mkdirSync(path.dirname(lock), { recursive: true });
    writeFileSync(lock, "");
    const hung = spawn("sleep", ["600"], { cwd: workspace, stdio: "ignore" });
    const ended = new Promise((r) => hung.once("exit", r));
    cleanups.push(async () => {
      hung.kill("SIGKILL");
      await ended;
    });

    const ci = await t.auth("ci");
    const releaser = await t.auth("releaser");
    const a = sampleArtifact({ package: "ready-local" });
    expect((await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: ci })).statusCode).toBe(201);
    const queued = await t.app.inject({ method: "POST", url: "/api/v1/releases", payload: { artifactId: a.id, environment: "rawhide" }, headers: releaser });
    expect(queued.statusCode).toBe(202);
    const id = (queued.json() as { id: string }).id;

    const get = async () => (await t.app.inject({ method: "GET", url: `/api/v1/releases/${id}`, headers: releaser })).json() as { status: string; attempts: number; error: string };
    for (let i = 0; i < 500 && (await get()).attempts === 0; i++) await sleep(20);
    expect(t.writer.health()).toMatchObject([{ repository: "gitops", cause: "workspace", failingSince: new Date(now) }]);
    const release = await get();
    expect(release.status).toBe("queued");
    expect(release.error).toMatch(/^workspace: /);
    expect(release.error).toContain(`lock file ${lock} exists`);
    expect(release.error).toContain(`held by process ${hung.pid}`);
    expect(existsSync(lock), "a lock a live process may hold is left").toBe(true);
    // Failing, but not yet for longer than the bound.
    expect(await ready(t)).toMatchObject({ status: 200 });
    now += 60_001;
    const r = await ready(t);
    expect(r).toMatchObject({ status: 503, body: { checks: { database: "ok", gitops: "failing" }, failing: [{ repository: "gitops", cause: "workspace", since: "2030-03-01T12:00:00.000Z" }], unreachable: [] } });
    expect(String(r.body.detail)).toContain("the writer of repository gitops has failed every attempt since 2030-03-01T12:00:00.000Z, cause workspace");
    const metrics = (await t.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toContain('relengd_writer_not_ready{repository="gitops",cause="workspace"} 1');
    expect(metrics).toContain('relengd_writer_failing_seconds{repository="gitops",cause="workspace"} 60.001');

    // The process ends: its lock is stale now, removed on the next attempt, and the release goes out.
    hung.kill("SIGKILL");
    await ended;
    for (let i = 0; i < 500 && (await ready(t)).status !== 200; i++) await sleep(20);
    expect(await ready(t)).toMatchObject({ status: 200, body: { checks: { gitops: "ok" } } });
    expect(((await t.app.inject({ method: "GET", url: `/api/v1/releases/${id}`, headers: releaser })).json() as { status: string }).status).toBe("pushed");
    expect(existsSync(lock)).toBe(false);
    expect((await t.app.inject({ method: "GET", url: "/metrics" })).body).not.toContain("relengd_writer_not_ready{");
  });

  it("fails once the writer has failed every attempt past the bound because of the store, saying so", async () => {
    const policies = mkdtempSync(path.join(tmpdir(), "relengd-ready-policies-"));
    cleanups.push(() => rmSync(policies, { recursive: true, force: true }));
    copyFileSync(SHIPPED_ENVIRONMENTS, path.join(policies, "environments.yaml"));
    let now = Date.parse("2030-03-01T12:00:00Z");
    // Attempts only when told (notify): the test decides when the writer looks.
    const t = await startTestApp(provider, { policiesDir: policies, readyRemoteBoundMs: 60_000, clock: () => new Date(now), writer: { maxAttempts: 1, pollMs: 600_000 } });
    cleanups.push(() => t.close());
    const ci = await t.auth("ci");
    const a = sampleArtifact({ package: "ready-store" });
    expect((await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: ci })).statusCode).toBe(201);
    const queued = await t.releases.enqueue({ artifactId: a.id, environment: "rawhide", repository: "gitops", branch: "main", package: a.package, trigger: "user:test", createdBy: "test", force: false });
    if (queued.status !== "queued") throw new Error(`expected queued, got ${queued.status}`);
    // The holds the writer re-checks at write time can no longer be read; the queue still can.
    await t.database.db.transaction((tx) => sql`ALTER TABLE "Hold" RENAME TO "HoldAway"`.execute(tx));
    t.writer.notify("gitops");
    await t.writer.idle();
    expect(t.writer.health()).toMatchObject([{ repository: "gitops", cause: "store" }]);
    expect(await ready(t)).toMatchObject({ status: 200 });
    now += 60_001;
    const r = await ready(t);
    // The database itself answers: it is the writer that fails.
    expect(r).toMatchObject({ status: 503, body: { checks: { database: "ok", gitops: "failing" }, failing: [{ repository: "gitops", cause: "store" }], unreachable: [] } });
    expect(String(r.body.detail)).toContain("the writer of repository gitops has failed every attempt since 2030-03-01T12:00:00.000Z, cause store");
    expect((await t.app.inject({ method: "GET", url: "/metrics" })).body).toContain('relengd_writer_not_ready{repository="gitops",cause="store"} 1');

    await t.database.db.transaction((tx) => sql`ALTER TABLE "HoldAway" RENAME TO "Hold"`.execute(tx));
    // Its one attempt spent, the release is failed; retried, it is written and the writer is well again.
    expect(await t.releases.retry(queued.release.id)).toMatchObject({ status: "queued" });
    t.writer.notify("gitops");
    await t.writer.idle();
    expect(await ready(t)).toMatchObject({ status: 200 });
    expect(t.writer.health()).toMatchObject([{ failingSince: null, cause: null }]);
  });
});
