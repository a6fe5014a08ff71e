// The repoclosure gate end to end: a compose release over real RPM repos (rpmbuild, createrepo_c),
// checked by the real dnf, on both databases, written to a real bare git remote with its trailers.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RepoclosureChecks } from "../../src/checks/repoclosureChecks.js";
import { RepoclosureGate } from "../../src/checks/repoclosureGate.js";
import { readMessage, TRAILER, trailerValue } from "../../src/domain/commitMessages/trailers.js";
import { repoclosureTrailerValue } from "../../src/domain/brokenDeps.js";
import type { RepoclosurePreflight } from "../../src/domain/repoclosure.js";
import { LocalBranchLease } from "../../src/store/branchLease.js";
import { BrokenDepsReportRepository } from "../../src/store/brokenDepsReportRepository.js";
import { KojiTagRepository } from "../../src/store/kojiTagRepository.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import { testProviders } from "../support/database.js";
import { cloneRemote } from "../support/remote.js";
import { runSchedule } from "../../src/flow/runSchedule.js";
import { designedRepos, haveRpmTools } from "../support/rpmRepo.js";

const maybe = haveRpmTools() || process.env.CI ? describe : describe.skip;
const PUBLIC_URL = "https://relengd.example.org";

function environmentsYaml(repos: { main: string; lookaside: string }, missing: string): string {
  const preflight = (strictness: string, main = repos.main) => `
    preflight:
      repoclosure:
        strictness: "${strictness}"
        arches: [x86_64, aarch64]
        repos: [{ id: main, url: "${main}" }]
        lookaside: [{ id: lookaside, url: "${repos.lookaside}" }]`;
  const compose = (name: string, extra = "") => `
  - name: ${name}
    repository: gitops
    kind: ComposeRequest
    compose: { release: rawhide, type: nightly }${extra}`;
  return `apiVersion: relengd/v1
kind: Environments
repositories:
  - name: gitops
    branch: main
environments:
  - name: rawhide
    repository: gitops
    kind: KojiTag
    kojiTag: { tag: f45 }
${compose("compose-fatal", preflight("fatal"))}
${compose("compose-lenient", preflight("lenient"))}
${compose("compose-off", preflight("off"))}
${compose("compose-plain")}
${compose("compose-missing", preflight("fatal", missing))}
`;
}

maybe.each(testProviders)("the repoclosure gate on %s", (provider) => {
  let t: TestApp;
  let dir: string;
  let repos: ReturnType<typeof designedRepos>;
  let reports: BrokenDepsReportRepository;
  let releaser: { authorization: string };
  let ci: { authorization: string };
  let day = 0;

  const checksOver = (dnf = "dnf") =>
    new RepoclosureChecks({
      reports,
      tagHistory: (tag, pkgs) => new KojiTagRepository(t.database.db).history(tag, pkgs),
      runner: { dnf, workDir: path.join(dir, "work"), timeoutMs: 120_000, memoryBytes: 4 * 1024 ** 3 },
      maxAgeMs: 600_000,
      logger: pino({ level: "silent" }),
    });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-gate-"));
    repos = designedRepos(dir);
    const policiesDir = path.join(dir, "policies");
    mkdirSync(policiesDir);
    writeFileSync(path.join(policiesDir, "environments.yaml"), environmentsYaml({ main: repos.main.url, lookaside: repos.lookaside.url }, `file://${dir}/no-such-repo`));
    writeFileSync(
      path.join(policiesDir, "nightly.yaml"),
      `apiVersion: relengd/v1
kind: Policy
metadata:
  name: nightly-fatal
spec:
  on: [schedule]
  schedule:
    cron: "0 5 * * *"
    timezone: UTC
  release:
    environment: compose-fatal
`,
    );
    writeFileSync(
      path.join(policiesDir, "on-push.yaml"),
      `apiVersion: relengd/v1
kind: Policy
metadata:
  name: compose-on-push
spec:
  on: [artifact]
  match:
    package: [compose-by-push]
  release:
    environment: compose-lenient
`,
    );
    // The checks need the app's store, the app needs the checks: they are made once it exists.
    const made: { checks?: RepoclosureChecks } = {};
    const lateChecks = {
      check: (...args: Parameters<RepoclosureChecks["check"]>) => (made.checks as RepoclosureChecks).check(...args),
      stop: () => made.checks?.stop() ?? Promise.resolve(),
    };
    t = await startTestApp(provider, { policiesDir, writer: { pollMs: 3_600_000 }, repoclosure: { checks: lateChecks, publicUrl: PUBLIC_URL, gate: { pollMs: 3_600_000 } } });
    reports = new BrokenDepsReportRepository(t.database.db);
    made.checks = checksOver();
    releaser = await t.auth("releaser");
    ci = await t.auth("ci");
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function composeArtifact() {
    day += 1;
    const a = sampleArtifact({
      package: "fedora-compose",
      release: "rawhide",
      items: [{ kind: "compose", composeId: `Fedora-Rawhide-203105${String(day).padStart(2, "0")}.n.0`, status: "FINISHED" }],
    });
    const res = await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: ci });
    expect(res.statusCode).toBe(201);
    return a;
  }
  const releaseReq = (body: object) => t.app.inject({ method: "POST", url: "/api/v1/releases", payload: body, headers: releaser });
  const getRelease = async (id: string) => (await t.app.inject({ method: "GET", url: `/api/v1/releases/${id}`, headers: releaser })).json();
  /** Waits for the gate's pass and the writer's, then reads the release. */
  const settled = async (id: string) => {
    await t.application.gate?.settled();
    await t.writer.idle();
    return getRelease(id);
  };

  it("answers 202 checking, then blocks a fatal release over broken repos naming the package and the dependency", async () => {
    const a = await composeArtifact();
    const res = await releaseReq({ artifactId: a.id, environment: "compose-fatal" });
    expect(res.statusCode).toBe(202);
    expect(res.json().status).toBe("checking");
    const r = await settled(res.json().id);
    expect(r.status).toBe("blocked");
    expect(r.reason).toMatch(/^repoclosure: 5 unresolved dependencies in 4 packages .*alpha-1\.0-1\.fc45\.noarch requires [^;]*libbeta >= 2/);
    expect(r.reason).toContain(`${PUBLIC_URL}/reports/broken-deps/${r.repoclosureReportId}`);
    expect(r).toMatchObject({ repoclosure: null, commitSha: null, preflight: { repoclosure: { strictness: "fatal", arches: ["x86_64", "aarch64"] } } });
    // The report it was judged by is kept, with exactly the designed unresolved set.
    const report = await reports.get(r.repoclosureReportId);
    expect(report).toMatchObject({ status: "broken", origin: "gate", tree: "rawhide" });
    for (const [arch, rows] of Object.entries(repos.expected)) {
      expect(report?.report?.arches[arch]?.map((p) => ({ source: p.source, nevra: p.nevra, unresolved: [...p.unresolved].sort() }))).toEqual(rows.map((p) => ({ ...p, unresolved: [...p.unresolved].sort() })));
    }
  }, 180_000);

  it("queues a lenient release and pushes its commit with both repoclosure trailers", async () => {
    const a = await composeArtifact();
    const res = await releaseReq({ artifactId: a.id, environment: "compose-lenient" });
    expect(res.json().status).toBe("checking");
    const r = await settled(res.json().id);
    expect(r.status).toBe("pushed");
    const report = await reports.get(r.repoclosureReportId);
    const value = repoclosureTrailerValue(report?.report ?? { tree: "", generatedAt: "", arches: {} });
    expect(value).toMatch(/^5 unresolved \((aarch64 x86_64|x86_64 aarch64)\)$/);
    expect(r.repoclosure).toBe(value);
    const clone = cloneRemote(t.remote);
    try {
      const commit = clone.log().find((c) => c.release?.releaseId === r.id);
      const read = readMessage(commit?.message ?? "");
      expect(read && trailerValue(read, TRAILER.repoclosure)).toBe(value);
      expect(read && trailerValue(read, TRAILER.repoclosureReport)).toBe(`${PUBLIC_URL}/reports/broken-deps/${r.repoclosureReportId}`);
      expect(commit?.release).toMatchObject({ repoclosure: value, repoclosureReport: `${PUBLIC_URL}/reports/broken-deps/${r.repoclosureReportId}` });
    } finally {
      clone.dispose();
    }
  }, 180_000);

  it("queues at once, with no check and no trailer, when the preflight is off or absent", async () => {
    for (const environment of ["compose-off", "compose-plain"]) {
      const a = await composeArtifact();
      const res = await releaseReq({ artifactId: a.id, environment });
      expect(res.json().status).toBe("queued");
      const r = await settled(res.json().id);
      expect(r).toMatchObject({ status: "pushed", preflight: null, repoclosureReportId: null, repoclosure: null });
      const clone = cloneRemote(t.remote);
      try {
        const commit = clone.log().find((c) => c.release?.releaseId === r.id);
        expect(commit?.message).not.toContain(TRAILER.repoclosure);
      } finally {
        clone.dispose();
      }
    }
  }, 180_000);

  it("a scheduled release is checked with its environment's preflight", async () => {
    const policy = t.policies.get().policies.find((p) => p.metadata.name === "nightly-fatal");
    if (!policy) throw new Error("policy not loaded");
    const summary = await runSchedule(t.evaluate, policy, new Date(Date.UTC(2031, 5, 1, 5)));
    expect(summary.fired).toBe(1);
    const [release] = (await t.releases.list({ environment: "compose-fatal", limit: 1 })).items;
    expect(release?.trigger).toBe("policy/nightly-fatal");
    const r = await settled(release?.id ?? "");
    expect(r.status).toBe("blocked");
    expect(r.reason).toContain("alpha-1.0-1.fc45.noarch");
  }, 180_000);

  it("a release a policy fires on a push is stored checking with the push and checked", async () => {
    const a = sampleArtifact({ package: "compose-by-push", release: "rawhide", items: [{ kind: "compose", composeId: "Fedora-Rawhide-20310701.n.0", status: "FINISHED" }] });
    expect((await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: ci })).statusCode).toBe(201);
    const [release] = (await t.releases.list({ artifactId: a.id, limit: 1 })).items;
    expect(release?.trigger).toBe("policy/compose-on-push");
    const r = await settled(release?.id ?? "");
    expect(r.status).toBe("pushed");
    expect(r.repoclosure).toMatch(/^5 unresolved/);
  }, 180_000);

  it("blocks with the error when a repository cannot be read: never a pass", async () => {
    const a = await composeArtifact();
    const res = await releaseReq({ artifactId: a.id, environment: "compose-missing" });
    const r = await settled(res.json().id);
    expect(r.status).toBe("blocked");
    expect(r.reason).toMatch(/^repoclosure could not run: /);
    expect((await reports.get(r.repoclosureReportId))?.status).toBe("error");
  }, 180_000);

  it("a retry of a gate-blocked release checks again, with a new run (a second report)", async () => {
    const a = await composeArtifact();
    const first = await settled((await releaseReq({ artifactId: a.id, environment: "compose-fatal" })).json().id);
    expect(first.status).toBe("blocked");
    const retry = await t.app.inject({ method: "POST", url: `/api/v1/releases/${first.id}/retry`, headers: releaser });
    expect(retry.statusCode).toBe(202);
    expect(retry.json().status).toBe("checking");
    const again = await settled(first.id);
    expect(again.status).toBe("blocked");
    expect(again.repoclosureReportId).not.toBe(first.repoclosureReportId);
    // A release that was never gated, and one that is pushed, are not retried.
    const pushed = await settled((await releaseReq({ artifactId: (await composeArtifact()).id, environment: "compose-plain" })).json().id);
    expect((await t.app.inject({ method: "POST", url: `/api/v1/releases/${pushed.id}/retry`, headers: releaser })).statusCode).toBe(409);
  }, 180_000);

  it("an ad-hoc release's body overrides the environment's preflight", async () => {
    const fatal: RepoclosurePreflight = { strictness: "fatal", arches: ["x86_64"], repos: [{ id: "main", url: repos.main.url }], lookaside: [] };
    const a = await composeArtifact();
    const res = await releaseReq({ artifactId: a.id, environment: "compose-plain", preflight: { repoclosure: fatal } });
    expect(res.json().status).toBe("checking");
    const r = await settled(res.json().id);
    expect(r.status).toBe("blocked");
    expect(r.preflight.repoclosure).toMatchObject({ strictness: "fatal", arches: ["x86_64"] });
    // Without lookaside, epsilon's zeta is missing too.
    expect(r.reason).toContain("zeta >= 1");
    const off = await releaseReq({ artifactId: (await composeArtifact()).id, environment: "compose-fatal", preflight: { repoclosure: { ...fatal, strictness: "off" } } });
    expect(off.json().status).toBe("queued");
  }, 180_000);

  it("refuses a preflight for an environment that is not a compose, and a bad one, naming the field", async () => {
    const a = await composeArtifact();
    const preflight = { repoclosure: { strictness: "fatal", arches: ["x86_64"], repos: [{ id: "main", url: repos.main.url }] } };
    const koji = await releaseReq({ artifactId: a.id, environment: "rawhide", preflight });
    expect(koji.statusCode).toBe(422);
    expect(koji.headers["content-type"]).toContain("application/problem+json");
    expect(koji.json()).toMatchObject({ code: "preflight-not-applicable", errors: [{ path: "/preflight", in: "body" }] });
    const bad = await releaseReq({ artifactId: a.id, environment: "compose-plain", preflight: { repoclosure: { ...preflight.repoclosure, strictness: "strict" } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe("/preflight/repoclosure/strictness");
    const noarch = await releaseReq({ artifactId: a.id, environment: "compose-plain", preflight: { repoclosure: { ...preflight.repoclosure, arches: ["noarch"] } } });
    expect(noarch.statusCode).toBe(400);
    expect(noarch.json().errors[0].path).toBe("/preflight/repoclosure/arches/0");
  }, 60_000);

  // The two below store `checking` releases straight in the store: nothing wakes the app's gate
  // (it polls hourly here), so only the gate each test starts checks them.
  async function storedChecking(preflight: RepoclosurePreflight) {
    const a = await composeArtifact();
    const outcome = await t.releases.enqueue({
      artifactId: a.id,
      environment: "compose-plain",
      repository: "gitops",
      branch: "main",
      package: a.package,
      trigger: "user:test",
      createdBy: "test",
      force: false,
      preflight,
    });
    if (outcome.status !== "queued") throw new Error(outcome.status);
    expect(outcome.release.status).toBe("checking");
    return outcome.release;
  }
  const gateOver = (checks: RepoclosureChecks) =>
    new RepoclosureGate({ releases: t.releases, checks, environments: () => t.policies.environments(), lease: new LocalBranchLease(), notify: (repo) => t.writer.notify(repo), publicUrl: PUBLIC_URL, logger: pino({ level: "silent" }) }, { pollMs: 3_600_000 });

  it("a gate that starts checks what a previous run left checking", async () => {
    const release = await storedChecking({ strictness: "lenient", arches: ["aarch64"], repos: [{ id: "main", url: repos.main.url }], lookaside: [{ id: "lookaside", url: repos.lookaside.url }] });
    // Waiting releases show in the metrics, read from the store (any replica's).
    const metrics = (await t.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(Number(/^relengd_releases_checking (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(metrics).toMatch(/^relengd_releases_checking_oldest_seconds \d/m);
    const gate = gateOver(checksOver());
    gate.start();
    await gate.settled();
    await gate.stop();
    await t.writer.idle();
    const r = await getRelease(release.id);
    expect(r.status).toBe("pushed");
    expect(r.repoclosure).toBe("4 unresolved (aarch64)");
  }, 180_000);

  it("shutdown mid-check kills dnf and leaves the release checking for the next start", async () => {
    const slow = path.join(dir, "slow-dnf");
    writeFileSync(slow, "#!/bin/sh\nsleep 600\n");
    chmodSync(slow, 0o755);
    const checks = checksOver(slow);
    const release = await storedChecking({ strictness: "fatal", arches: ["s390x"], repos: [{ id: "main", url: repos.main.url }], lookaside: [] });
    const gate = gateOver(checks);
    gate.start();
    while (checks.inFlight() === 0) await new Promise((r) => setTimeout(r, 20));
    await Promise.all([gate.stop(), checks.stop()]);
    const r = await getRelease(release.id);
    expect(r).toMatchObject({ status: "checking", repoclosureReportId: null });
  }, 60_000);
});
