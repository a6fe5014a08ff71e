// A token scoped to some packages cannot reach another package's Koji tag or
// Bodhi update through a build of it, and every artifact's builds fit its package, side tag and
// release — at push, at ad-hoc release, before a policy fires and at write time.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArtifact, type Artifact, type ArtifactInput } from "../../src/domain/artifact.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { testProviders } from "../support/database.js";
import { cloneRemote, git } from "../support/remote.js";

const f44 = (overrides: Partial<ArtifactInput>): ArtifactInput =>
  sampleArtifact({ release: "f44", source: { repo: "https://src.fedoraproject.org/rpms/python-evil.git", sha: "abcdef1234", branch: "f44", event: "build" }, ...overrides });

/** The issue's repro: a python-* token pushing a build of kernel under the name python-evil. */
const evil = () => f44({ package: "python-evil", items: [{ kind: "koji-build", nvr: "kernel-9.9-1.fc44" }] });

describe.each(testProviders)("ingest rules and build scopes on %s", (provider) => {
  let t: TestApp;
  let pythonCi: { authorization: string };
  let ci: { authorization: string };
  let releaser: { authorization: string };
  let pythonReleaser: { authorization: string };

  beforeAll(async () => {
    t = await startTestApp(provider);
    pythonCi = await t.auth("ci", { packages: ["python-*"] });
    ci = await t.auth("ci");
    releaser = await t.auth("releaser");
    pythonReleaser = await t.auth("releaser", { packages: ["python-*"] });
  });
  afterAll(async () => t?.close());

  const push = (a: ArtifactInput, headers = ci) => t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers });
  const releaseReq = (body: object, headers = releaser) => t.app.inject({ method: "POST", url: "/api/v1/releases", payload: body, headers });
  const releasesOf = async (artifactId: string) =>
    (await t.app.inject({ method: "GET", url: `/api/v1/releases?artifactId=${encodeURIComponent(artifactId)}`, headers: ci })).json().items as { id: string; status: string; reason: string | null }[];
  const decisionsOf = async (artifactId: string) =>
    (await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${encodeURIComponent(artifactId)}/decisions`, headers: ci })).json().items as { policy: string; fired: boolean; reason: string | null }[];
  const remoteFile = (file: string): string | null => {
    // Nothing pushed yet: the remote has no branch to clone.
    if (git(t.remote, "for-each-ref", "refs/heads/main").trim() === "") return null;
    const clone = cloneRemote(t.remote);
    try {
      return clone.read(file);
    } finally {
      clone.dispose();
    }
  };
  /** An artifact as a relengd before these rules stored it: straight into the store. */
  async function storedBeforeTheRules(input: ArtifactInput): Promise<Artifact> {
    const parsed = parseArtifact(input);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    expect((await new ArtifactRepository(t.database.db).ingest(parsed.value)).status).toBe("created");
    return parsed.value;
  }

  it("refuses a scoped ci token's build of another package with 403 naming /items/N/nvr; nothing is stored or released", async () => {
    const a = evil();
    const res = await push(a, pythonCi);
    expect(res.statusCode).toBe(403);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.json()).toMatchObject({
      status: 403,
      detail: expect.stringContaining("/items/0/nvr is a build of kernel, outside the token's package scope python-*"),
      errors: [{ path: "/items/0/nvr", in: "body", message: expect.stringContaining("kernel") }],
    });
    expect((await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${a.id}`, headers: ci })).statusCode).toBe(404);
    await t.writer.idle();
    expect(remoteFile("bodhi/F44/kernel.yaml")).toBeNull();

    // A side-tag update hiding one build of another package is refused the same way.
    const sideTag = "f44-build-side-4040";
    const mixed = f44({ package: "python-evil", items: [{ kind: "koji-build", nvr: "python-evil-1.0-1.fc44", sideTag }, { kind: "koji-build", nvr: "kernel-9.9-1.fc44", sideTag }] });
    const res2 = await push(mixed, pythonCi);
    expect(res2.statusCode).toBe(403);
    expect(res2.json().errors).toEqual([{ path: "/items/1/nvr", in: "body", message: "is a build of kernel, outside the token's package scope python-*" }]);
  });

  it("refuses a build of another package, builds from no side tag and a dist tag of another release with 422, its code and the fields", async () => {
    const cases: [ArtifactInput, string, { path: string; message: RegExp }][] = [
      [evil(), "build-of-other-package", { path: "/items/0/nvr", message: /build of kernel, not of the artifact's package python-evil/ }],
      [
        f44({ package: "qt6-qtbase", items: [{ kind: "koji-build", nvr: "qt6-qtbase-6.9.1-1.fc44" }, { kind: "koji-build", nvr: "qt6-qtsvg-6.9.1-1.fc44" }] }),
        "side-tag-required",
        { path: "/items/0/sideTag", message: /side-tag update/ },
      ],
      [f44({ package: "python-evil", items: [{ kind: "koji-build", nvr: "python-evil-1.0-1.fc45" }] }), "dist-tag-mismatch", { path: "/items/0/nvr", message: /dist tag fc45, which does not fit release f44/ }],
      [sampleArtifact({ package: "foo", release: "rawhide", items: [{ kind: "koji-build", nvr: "foo-1.0-1.fc44" }] }), "dist-tag-mismatch", { path: "/items/0/nvr", message: /fcN with N ≥ 45/ }],
    ];
    for (const [a, code, field] of cases) {
      const res = await push(a);
      expect(res.statusCode, code).toBe(422);
      expect(res.headers["content-type"]).toContain("application/problem+json");
      const body = res.json();
      expect(body, code).toMatchObject({ status: 422, code });
      expect(body.errors[0], code).toMatchObject({ path: field.path, in: "body" });
      expect(body.errors[0].message, code).toMatch(field.message);
      expect(body.detail, code).toContain(`breaks rule ${code}`);
      expect((await t.app.inject({ method: "GET", url: `/api/v1/artifacts/${a.id}`, headers: ci })).statusCode, code).toBe(404);
    }
  });

  it("takes a scoped token's side-tag update of its own packages, and the shipped policy writes it under the side tag", async () => {
    const sideTag = "f44-build-side-5151";
    const a = f44({ package: "python-a", items: [{ kind: "koji-build", nvr: "python-a-1.0-1.fc44", sideTag }, { kind: "koji-build", nvr: "python-b-2.0-1.fc44", sideTag }] });
    expect((await push(a, pythonCi)).statusCode).toBe(201);
    await t.writer.idle();
    expect(await releasesOf(a.id)).toMatchObject([{ status: "pushed" }]);
    expect(remoteFile(`bodhi/F44/${sideTag}.yaml`)).toContain("python-b-2.0-1.fc44");
  });

  it("refuses an ad-hoc release by a scoped releaser of an artifact carrying a build outside its scope (403)", async () => {
    const sideTag = "f44-build-side-6262";
    // Pushed by an unscoped CI token: legitimate, and the shipped f44 policy releases it.
    const a = f44({ package: "python-a", items: [{ kind: "koji-build", nvr: "python-a-1.1-1.fc44", sideTag }, { kind: "koji-build", nvr: "kernel-9.9-2.fc44", sideTag }] });
    expect((await push(a)).statusCode).toBe(201);
    const res = await releaseReq({ artifactId: a.id, environment: "f44-updates-candidate" }, pythonReleaser);
    expect(res.statusCode).toBe(403);
    expect(res.json().detail).toBe(`token of test-releaser may not release artifact ${a.id}: /items/1/nvr is a build of kernel, outside the token's package scope python-*`);
    expect((await releasesOf(a.id)).filter((r) => r.status !== "pushed" && r.status !== "queued")).toEqual([]);

    // Nor roll python-a back to it.
    const rollback = await t.app.inject({ method: "POST", url: "/api/v1/rollbacks", payload: { environment: "f44-updates-candidate", package: "python-a", artifactId: a.id }, headers: pythonReleaser });
    expect(rollback.statusCode).toBe(403);
    expect(rollback.json().detail).toContain("/items/1/nvr is a build of kernel");

    // Nor may it retry the policy's release of that artifact once it failed.
    await t.writer.idle();
    const [byPolicy] = await releasesOf(a.id);
    await t.database.db.transaction((tx) => tx.updateTable("Release").set({ status: "failed" }).where("id", "=", byPolicy!.id).execute());
    const retry = await t.app.inject({ method: "POST", url: `/api/v1/releases/${byPolicy!.id}/retry`, headers: pythonReleaser });
    expect(retry.statusCode).toBe(403);
    expect(retry.json().detail).toContain("/items/1/nvr is a build of kernel, outside the token's package scope python-*");

    // Nor waive a result of it: a waiver lets policies release every build it carries.
    const waiver = await t.app.inject({ method: "POST", url: `/api/v1/artifacts/${a.id}/waivers`, payload: { testcase: "fedora-ci.koji-build.tier0.functional", comment: "flaky" }, headers: pythonReleaser });
    expect(waiver.statusCode).toBe(403);
    expect(waiver.json().detail).toContain("/items/1/nvr is a build of kernel, outside the token's package scope python-*");
  });

  it("refuses an artifact stored before the rules at release time with the rule as code; its policies skip it and the writer blocks it", async () => {
    const a = await storedBeforeTheRules(evil());
    // Scope first: a python-* releaser may not touch the kernel build at all.
    expect((await releaseReq({ artifactId: a.id, environment: "f44-updates-testing" }, pythonReleaser)).statusCode).toBe(403);
    const res = await releaseReq({ artifactId: a.id, environment: "f44-updates-testing", force: true, reason: "try anyway" });
    expect(res.statusCode).toBe(422);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.json()).toMatchObject({
      code: "build-of-other-package",
      detail: `artifact ${a.id} breaks rule build-of-other-package: /items/0/nvr is a build of kernel, not of the artifact's package python-evil (/package); an artifact of one build is that build's package`,
      violations: [{ rule: "build-of-other-package", path: "/items/0/nvr" }],
    });

    // Policy path: results arriving for it make f44-updates-testing decide, and it does not fire.
    const appended = await t.app.inject({
      method: "POST",
      url: `/api/v1/artifacts/${a.id}/results`,
      payload: { results: [{ kind: "ci-result", testcase: "fedora-ci.koji-build.tier0.functional", outcome: "PASSED", refUrl: "https://ci.example.org/run/1" }] },
      headers: ci,
    });
    expect(appended.statusCode).toBe(201);
    const decision = (await decisionsOf(a.id)).find((d) => d.policy === "f44-updates-testing");
    expect(decision).toMatchObject({ fired: false, reason: expect.stringContaining("breaks rule build-of-other-package") });

    // Writer path: a release queued before the rules (straight into the store) is blocked, not written.
    const queued = await t.releases.enqueue({
      artifactId: a.id,
      environment: "f44-updates-testing",
      repository: "gitops",
      branch: "main",
      package: a.package,
      trigger: "user:legacy",
      createdBy: "legacy",
      force: false,
    });
    expect(queued.status).toBe("queued");
    t.writer.notify("gitops");
    await t.writer.idle();
    expect(await releasesOf(a.id)).toEqual([expect.objectContaining({ status: "blocked", reason: expect.stringContaining("breaks rule build-of-other-package: /items/0/nvr") })]);
    expect(remoteFile("bodhi/F44/kernel.yaml")).toBeNull();
  });

  it("refuses a rollback to an artifact stored before the rules", async () => {
    const a = await storedBeforeTheRules(f44({ package: "python-old", items: [{ kind: "koji-build", nvr: "python-old-1.0-1.fc45" }] }));
    const res = await t.app.inject({ method: "POST", url: "/api/v1/rollbacks", payload: { environment: "f44-updates-candidate", package: "python-old", artifactId: a.id }, headers: releaser });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toContain("breaks rule dist-tag-mismatch: /items/0/nvr has dist tag fc45, which does not fit release f44");
  });
});
