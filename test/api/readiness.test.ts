// /readyz (issue 6): not ready once a GitOps remote has been unreachable for longer than the
// bound; ready again once it answers. (A database that goes away: test/failure/postgresRestart.)
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureBareRepository } from "../../src/gitops/repository.js";
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
});
