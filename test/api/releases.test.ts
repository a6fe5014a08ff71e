import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { startTestApp, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { testProviders } from "../support/database.js";
import { cloneRemote, remoteHead } from "../support/remote.js";

describe.each(testProviders)("releases on %s", (provider) => {
  let t: TestApp;
  let ci: { authorization: string };
  let releaser: { authorization: string };

  beforeAll(async () => {
    // No polling: the writer runs only when told, so releases queued straight in the store
    // (the supersede case) wait until the test says go.
    t = await startTestApp(provider, { writer: { pollMs: 3_600_000 } });
    ci = await t.auth("ci");
    releaser = await t.auth("releaser");
  });
  afterAll(async () => t?.close());

  async function pushed(overrides: Parameters<typeof sampleArtifact>[0] = {}) {
    const a = sampleArtifact(overrides);
    const res = await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: ci });
    expect(res.statusCode).toBe(201);
    return a;
  }
  const releaseReq = (body: object, headers = releaser) => t.app.inject({ method: "POST", url: "/api/v1/releases", payload: body, headers });
  const getRelease = async (id: string) => (await t.app.inject({ method: "GET", url: `/api/v1/releases/${id}`, headers: releaser })).json();

  it("lists the shipped environments", async () => {
    const res = await t.app.inject({ method: "GET", url: "/api/v1/environments", headers: ci });
    expect(res.statusCode).toBe(200);
    expect(res.json().items.map((e: { name: string }) => e.name)).toEqual(["rawhide", "f44-updates-candidate", "f44-updates-testing", "f44-updates", "rawhide-compose"]);
  });

  it("writes a release as a KojiTag document with trailers, pushed to the remote", async () => {
    const a = await pushed({ package: "python-requests" });
    const res = await releaseReq({ artifactId: a.id, environment: "rawhide" });
    expect(res.statusCode).toBe(202);
    const { id, status } = res.json();
    expect(status).toBe("queued");
    await t.writer.idle();

    const r = await getRelease(id);
    expect(r).toMatchObject({ status: "pushed", commitSha: remoteHead(t.remote), trigger: "user:test-releaser" });
    const clone = cloneRemote(t.remote);
    try {
      const nvr = (a.items?.[0] as { nvr: string }).nvr;
      const doc = parseYaml(clone.read("koji/tags/f45/python-requests.yaml") ?? "");
      expect(doc).toMatchObject({ apiVersion: "relengd/v1", kind: "KojiTag", metadata: { artifactId: a.id, releaseId: id, environment: "rawhide" }, spec: { tag: "f45", package: "python-requests", nvr } });
      const [top] = clone.log();
      expect(top?.message.split("\n")[0]).toBe(`koji-tag: ${nvr} → f45`);
      expect(top?.release).toMatchObject({ releaseId: id, artifactId: a.id, environment: "rawhide", trigger: "user:test-releaser", nvrs: [nvr] });
      expect(top?.author).toBe("relengd");
    } finally {
      clone.dispose();
    }
  });

  it("writes a Bodhi update with Bodhi's field names", async () => {
    const a = await pushed({ package: "nmstate", source: { repo: "https://src.fedoraproject.org/rpms/nmstate.git", sha: "abc1234", event: "build", message: "Fix crash (rhbz#2250001)" } });
    const res = await releaseReq({ artifactId: a.id, environment: "f44-updates-testing" });
    await t.writer.idle();
    expect((await getRelease(res.json().id)).status).toBe("pushed");
    const clone = cloneRemote(t.remote);
    try {
      const doc = parseYaml(clone.read("bodhi/F44/nmstate.yaml") ?? "");
      expect(doc.spec).toMatchObject({ release: "F44", builds: [(a.items?.[0] as { nvr: string }).nvr], type: "bugfix", request: "testing", bugs: [2250001], autokarma: true, stable_karma: 3, unstable_karma: -3, autotime: true, stable_days: 7, notes: "Fix crash (rhbz#2250001)" });
    } finally {
      clone.dispose();
    }
  });

  it("refuses a second release of the same artifact to the same environment unless forced with a reason", async () => {
    const a = await pushed({ package: "tzdata" });
    expect((await releaseReq({ artifactId: a.id, environment: "rawhide" })).statusCode).toBe(202);
    const again = await releaseReq({ artifactId: a.id, environment: "rawhide" });
    expect(again.statusCode).toBe(409);
    expect(again.json().existingRelease).toEqual(expect.any(String));
    const noReason = await releaseReq({ artifactId: a.id, environment: "rawhide", force: true });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().errors[0].path).toBe("/reason");
    const forced = await releaseReq({ artifactId: a.id, environment: "rawhide", force: true, reason: "re-tag after koji outage" });
    expect(forced.statusCode).toBe(202);
    await t.writer.idle();
    // The same request is already in the repo: no new commit, recorded as pushed.
    const r = await getRelease(forced.json().id);
    expect(r.status).toBe("pushed");
  });

  it("answers 422 when the artifact lacks what the environment's kind needs, 400 for an unknown environment", async () => {
    const a = await pushed({ package: "kernel", items: [{ kind: "link", name: "x", url: "https://example.org" }] });
    const res = await releaseReq({ artifactId: a.id, environment: "rawhide" });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toContain("no koji-build");
    const unknown = await releaseReq({ artifactId: a.id, environment: "f99" });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0].path).toBe("/environment");
    expect((await releaseReq({ artifactId: "missing", environment: "rawhide" })).statusCode).toBe(422);
  });

  it("lets only releasers release, within their scopes", async () => {
    const a = await pushed({ package: "python-idna" });
    expect((await releaseReq({ artifactId: a.id, environment: "rawhide" }, ci)).statusCode).toBe(403);
    const scoped = await t.auth("releaser", { environments: ["f44-*"] });
    const res = await releaseReq({ artifactId: a.id, environment: "rawhide" }, scoped);
    expect(res.statusCode).toBe(403);
    expect(res.json().detail).toContain("rawhide");
  });

  it("supersedes queued Koji tag releases of one package by the newest", async () => {
    const arts = [await pushed({ package: "golang-x" }), await pushed({ package: "golang-x" }), await pushed({ package: "golang-x" })];
    const before = cloneRemote(t.remote);
    const commitsBefore = before.log().length;
    before.dispose();
    // Queued straight in the store, so the writer sees all three in one batch.
    const ids: string[] = [];
    for (const a of arts) {
      const out = await t.releases.enqueue({ artifactId: a.id, environment: "rawhide", repository: "gitops", branch: "main", package: "golang-x", trigger: "user:test", createdBy: "test", force: false });
      if (out.status !== "queued") throw new Error(out.status);
      ids.push(out.release.id);
    }
    t.writer.notify("gitops");
    await t.writer.idle();
    const states = await Promise.all(ids.map(getRelease));
    expect(states.map((s) => s.status)).toEqual(["superseded", "superseded", "pushed"]);
    expect(states[0].supersededBy).toBe(ids[2]);
    const after = cloneRemote(t.remote);
    try {
      expect(after.log().length).toBe(commitsBefore + 1);
      expect(parseYaml(after.read("koji/tags/f45/golang-x.yaml") ?? "").metadata.artifactId).toBe(arts[2]?.id);
    } finally {
      after.dispose();
    }
  });

  it("rolls back to the previous artifact and holds the package until the hold is lifted", async () => {
    const first = await pushed({ package: "systemd" });
    const second = await pushed({ package: "systemd" });
    for (const a of [first, second]) {
      expect((await releaseReq({ artifactId: a.id, environment: "f44-updates-candidate" })).statusCode).toBe(202);
      await t.writer.idle();
    }
    const rb = await t.app.inject({ method: "POST", url: "/api/v1/rollbacks", payload: { environment: "f44-updates-candidate", package: "systemd", reason: "boot loop" }, headers: releaser });
    expect(rb.statusCode).toBe(202);
    expect(rb.json().release).toMatchObject({ artifactId: first.id, trigger: "rollback" });
    expect(rb.json().hold.reason).toContain("boot loop");
    await t.writer.idle();
    const clone = cloneRemote(t.remote);
    try {
      expect(parseYaml(clone.read("koji/tags/f44-updates-candidate/systemd.yaml") ?? "").metadata.artifactId).toBe(first.id);
      expect(clone.log()[0]?.release).toMatchObject({ trigger: "rollback", forceReason: expect.stringContaining("boot loop") });
    } finally {
      clone.dispose();
    }

    const third = await pushed({ package: "systemd" });
    const held = await releaseReq({ artifactId: third.id, environment: "f44-updates-candidate" });
    expect(held.statusCode).toBe(409);
    expect(held.json().detail).toContain("boot loop");
    const holds = (await t.app.inject({ method: "GET", url: "/api/v1/holds?environment=f44-updates-candidate", headers: releaser })).json().items;
    expect(holds).toHaveLength(1);
    const lifted = await t.app.inject({ method: "DELETE", url: `/api/v1/holds/${holds[0].id}`, headers: releaser });
    expect(lifted.statusCode).toBe(200);
    expect((await releaseReq({ artifactId: third.id, environment: "f44-updates-candidate" })).statusCode).toBe(202);
  });

  it("places and refuses duplicate holds by hand", async () => {
    const body = { environment: "rawhide", package: "glibc", reason: "mass rebuild in progress" };
    const res = await t.app.inject({ method: "POST", url: "/api/v1/holds", payload: body, headers: releaser });
    expect(res.statusCode).toBe(201);
    expect((await t.app.inject({ method: "POST", url: "/api/v1/holds", payload: body, headers: releaser })).statusCode).toBe(409);
    expect((await t.app.inject({ method: "DELETE", url: "/api/v1/holds/01ARZ3NDEKTSV4RRFFQ69G5FAV", headers: releaser })).statusCode).toBe(404);
  });

  it("lists releases by environment, package and status", async () => {
    const res = await t.app.inject({ method: "GET", url: "/api/v1/releases?package=systemd&status=pushed", headers: releaser });
    expect(res.statusCode).toBe(200);
    expect(res.json().items.length).toBeGreaterThanOrEqual(3);
    expect((await t.app.inject({ method: "GET", url: "/api/v1/releases?status=done", headers: releaser })).json().errors[0].path).toBe("/status");
  });
});
