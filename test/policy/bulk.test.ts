import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseReleaseIds } from "../../src/domain/commitMessages/trailers.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { testProviders } from "../support/database.js";
import { cloneRemote } from "../support/remote.js";

describe.each(testProviders)("bulk releases (mass rebuild) on %s", (provider) => {
  let t: TestApp;

  beforeAll(async () => {
    // The writer runs only when told, so the whole burst is queued before it looks.
    t = await startTestApp(provider, { writer: { pollMs: 3_600_000 } });
  });
  afterAll(async () => t?.close());

  const rebuild = (pkg: string) =>
    sampleArtifact({
      package: pkg,
      release: "rawhide",
      source: { repo: `https://src.fedoraproject.org/rpms/${pkg}.git`, sha: "abcdef1234", branch: "rawhide", event: "build" },
      items: [{ kind: "koji-build", nvr: `${pkg}-1.0-2.fc45`, target: "f45-rebuild" }],
    });

  it("marks the mass-rebuild policy's releases as bulk", async () => {
    const ci = await t.auth("ci");
    const a = rebuild("zlib-ng");
    await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: ci });
    const d = (await t.decisions.forArtifact(a.id)).find((x) => x.policy === "mass-rebuild");
    expect(d).toMatchObject({ fired: true });
    expect((await t.releases.get(d?.releaseId ?? ""))?.bulk).toBe(true);
    await t.writer.idle();
  });

  it("writes queued bulk releases as one commit listing every release", async () => {
    const ci = await t.auth("ci");
    const pkgs = ["bzip2", "xz", "zstd", "lz4", "brotli"];
    const ids: string[] = [];
    for (const pkg of pkgs) {
      // No mass-rebuild target: no policy fires; the releases are queued below, all at once.
      const a = { ...rebuild(pkg), items: [{ kind: "koji-build" as const, nvr: `${pkg}-1.0-2.fc45` }] };
      expect((await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: ci })).statusCode).toBe(201);
      const out = await t.releases.enqueue({ artifactId: a.id, environment: "rawhide", repository: "gitops", branch: "main", package: pkg, trigger: "policy/mass-rebuild", createdBy: "policy/mass-rebuild", force: false, bulk: true });
      if (out.status !== "queued") throw new Error(out.status);
      ids.push(out.release.id);
    }
    const before = cloneRemote(t.remote);
    const commitsBefore = before.log().length;
    before.dispose();
    t.writer.notify("gitops");
    await t.writer.idle();
    const clone = cloneRemote(t.remote);
    try {
      const log = clone.log();
      expect(log.length).toBe(commitsBefore + 1);
      expect(log[0]?.message.split("\n")[0]).toBe("bulk: 5 releases to rawhide");
      expect(parseReleaseIds(log[0]?.message ?? "").sort()).toEqual([...ids].sort());
      for (const pkg of pkgs) expect(clone.read(`koji/tags/f45/${pkg}.yaml`)).toContain(`${pkg}-1.0-2.fc45`);
    } finally {
      clone.dispose();
    }
    for (const id of ids) expect((await t.releases.get(id))?.status).toBe("pushed");
  });
});
