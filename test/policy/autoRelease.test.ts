import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { startTestApp, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { testProviders } from "../support/database.js";
import { cloneRemote } from "../support/remote.js";

const TIER0 = "fedora-ci.koji-build.tier0.functional";
const SHIPPED = path.resolve(__dirname, "../../policies");

describe.each(testProviders)("auto-release policies on %s", (provider) => {
  let t: TestApp;
  let dir: string;
  let ci: { authorization: string };
  let admin: { authorization: string };

  beforeAll(async () => {
    // A copy of the shipped policies/, so the test can edit it and reload.
    dir = mkdtempSync(path.join(tmpdir(), "relengd-policies-"));
    cpSync(SHIPPED, dir, { recursive: true });
    t = await startTestApp(provider, { policiesDir: dir });
    ci = await t.auth("ci");
    admin = await t.auth("admin");
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const push = (a: object) => t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: ci });
  const decisions = async (id: string) => (await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${id}/decisions`, headers: ci })).json().items as { policy: string; fired: boolean; waiting: boolean; reason: string | null; releaseId: string | null }[];
  // The latest decision of one policy (decisions of one evaluation are not ordered by policy).
  const latest = async (id: string, policy = "rawhide-auto") => (await decisions(id)).filter((d) => d.policy === policy).at(-1);
  const rawhideBuild = (pkg: string) =>
    sampleArtifact({
      package: pkg,
      release: "rawhide",
      source: { repo: `https://src.fedoraproject.org/rpms/${pkg}.git`, sha: "abcdef1234", branch: "rawhide", event: "build" },
      items: [{ kind: "koji-build", nvr: `${pkg}-1.0-1.fc45` }],
    });

  it("waits for the gating result, then tags the build when tier-0 passes", async () => {
    const a = rawhideBuild("python-wheel");
    expect((await push(a)).statusCode).toBe(201);
    const first = (await decisions(a.id)).find((d) => d.policy === "rawhide-auto");
    expect(first).toMatchObject({ fired: false, waiting: true, reason: "required testcase fedora-ci.koji-build.tier0.* has no result yet" });

    await t.app.inject({ method: "POST", url: `/api/v1/artifacts/${a.id}/results`, payload: { results: [{ kind: "ci-result", testcase: TIER0, outcome: "RUNNING", refUrl: "https://tf/1" }] }, headers: ci });
    expect(await latest(a.id)).toMatchObject({ policy: "rawhide-auto", fired: false, reason: `required testcase ${TIER0} is RUNNING` });

    await t.app.inject({ method: "POST", url: `/api/v1/artifacts/${a.id}/results`, payload: { results: [{ kind: "ci-result", testcase: TIER0, outcome: "PASSED", refUrl: "https://tf/1" }] }, headers: ci });
    const fired = await latest(a.id);
    expect(fired).toMatchObject({ policy: "rawhide-auto", fired: true, releaseId: expect.any(String) });
    await t.writer.idle();
    const clone = cloneRemote(t.remote);
    try {
      expect(parseYaml(clone.read("koji/tags/f45/python-wheel.yaml") ?? "").spec.nvr).toBe("python-wheel-1.0-1.fc45");
      expect(clone.log()[0]?.release).toMatchObject({ trigger: "policy/rawhide-auto", releaseId: fired?.releaseId });
    } finally {
      clone.dispose();
    }
    // A later result does not release it twice.
    await t.app.inject({ method: "POST", url: `/api/v1/artifacts/${a.id}/results`, payload: { results: [{ kind: "ci-result", testcase: "dist.rpmdeplint", outcome: "PASSED" }] }, headers: ci });
    expect((await latest(a.id))?.reason).toMatch(/^already released to rawhide/);
  });

  it("skips with the reason when a required testcase failed", async () => {
    const a = rawhideBuild("python-six");
    await push(a);
    await t.app.inject({ method: "POST", url: `/api/v1/artifacts/${a.id}/results`, payload: { results: [{ kind: "ci-result", testcase: TIER0, outcome: "FAILED" }] }, headers: ci });
    expect(await latest(a.id)).toMatchObject({ fired: false, waiting: false, reason: `required testcase ${TIER0} is FAILED (needs PASSED)` });
  });

  it("opens a Bodhi update for an f44 build at once", async () => {
    const a = sampleArtifact({ package: "nmstate", release: "f44", source: { repo: "https://src.fedoraproject.org/rpms/nmstate.git", sha: "abcdef1234", branch: "f44", event: "build" }, items: [{ kind: "koji-build", nvr: "nmstate-2.2.40-1.fc44" }] });
    await push(a);
    expect((await decisions(a.id)).find((d) => d.policy === "f44-updates-testing")).toMatchObject({ fired: true });
    await t.writer.idle();
    const clone = cloneRemote(t.remote);
    try {
      expect(parseYaml(clone.read("bodhi/F44/nmstate.yaml") ?? "").spec).toMatchObject({ builds: ["nmstate-2.2.40-1.fc44"], request: "testing" });
    } finally {
      clone.dispose();
    }
  });

  it("is blocked by a freeze, and fires once a reload ends it", async () => {
    const envFile = path.join(dir, "environments.yaml");
    const original = readFileSync(envFile, "utf8");
    const start = new Date(Date.now() - 86_400_000).toISOString();
    const end = new Date(Date.now() + 86_400_000).toISOString();
    writeFileSync(envFile, original.replace("      tag: f45\n", `      tag: f45\n    freezes:\n      - start: "${start}"\n        end: "${end}"\n        reason: Beta freeze\n`));
    expect((await t.app.inject({ method: "POST", url: "/api/v1/policies/reload", headers: admin })).statusCode).toBe(200);

    const a = rawhideBuild("python-idna");
    a.items = [...(a.items ?? []), { kind: "ci-result", testcase: TIER0, outcome: "PASSED" }];
    await push(a);
    expect((await decisions(a.id)).find((d) => d.policy === "rawhide-auto")).toMatchObject({
      fired: false,
      waiting: true,
      reason: `environment rawhide frozen until ${end.slice(0, 10)} (Beta freeze)`,
    });
    // An ad-hoc release needs force with a reason while frozen.
    const releaser = await t.auth("releaser");
    const adhoc = await t.app.inject({ method: "POST", url: "/api/v1/releases", payload: { artifactId: a.id, environment: "rawhide" }, headers: releaser });
    expect(adhoc.statusCode).toBe(409);
    expect(adhoc.json().detail).toContain("Beta freeze");

    writeFileSync(envFile, original);
    expect((await t.app.inject({ method: "POST", url: "/api/v1/policies/reload", headers: admin })).statusCode).toBe(200);
    await t.app.inject({ method: "POST", url: `/api/v1/artifacts/${a.id}/results`, payload: { results: [{ kind: "ci-result", testcase: "dist.rpmdeplint", outcome: "PASSED" }] }, headers: ci });
    expect(await latest(a.id)).toMatchObject({ policy: "rawhide-auto", fired: true });
  });

  it("keeps the old policy set when a reload finds a broken file, and says why", async () => {
    const before = (await t.app.inject({ method: "GET", url: "/api/v1/policies", headers: ci })).json().items.map((p: { name: string }) => p.name);
    writeFileSync(path.join(dir, "broken.yaml"), "apiVersion: relengd/v1\nkind: Policy\nmetadata: {name: broken}\nspec:\n  on: [sometimes]\n  release: {environment: rawhide}\n");
    const res = await t.app.inject({ method: "POST", url: "/api/v1/policies/reload", headers: admin });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toContain("broken.yaml:5: /spec/on/0");
    expect((await t.app.inject({ method: "GET", url: "/api/v1/policies", headers: ci })).json().items.map((p: { name: string }) => p.name)).toEqual(before);
    expect((await t.app.inject({ method: "POST", url: "/api/v1/policies/reload", headers: ci })).statusCode).toBe(403);
    rmSync(path.join(dir, "broken.yaml"));
  });
});
