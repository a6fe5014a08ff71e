// A relengd with a little of everything the dashboard shows: pushed, failed, blocked and queued
// releases, policy decisions (fired and skipped), a hold, an active and an upcoming freeze.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { expect } from "vitest";
import { buildApp } from "../../src/api/app.js";
import type { ArtifactInput } from "../../src/domain/artifact.js";
import { appDepsOf, startTestApp, type TestApp } from "../support/app.js";
import { sampleArtifact } from "../support/artifacts.js";
import type { TestProvider } from "../support/database.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const SHIPPED_POLICIES = path.resolve(__dirname, "../../policies");

export interface Seeded {
  t: TestApp;
  ci: { authorization: string };
  releaser: { authorization: string };
  reader: { authorization: string };
  /** Rawhide artifacts the rawhide-auto policy released (pushed), oldest first. */
  pushed: { artifact: ArtifactInput; nvr: string; releaseId: string }[];
  /** An artifact whose tier-0 test failed: the policy skipped it. */
  failing: ArtifactInput;
  failedReleaseId: string;
  blockedReleaseId: string;
  queuedReleaseId: string;
  activeFreeze: { start: string; end: string; reason: string };
  upcomingFreeze: { start: string; end: string; reason: string };
  close(): Promise<void>;
}

export const nvrOf = (a: ArtifactInput) => (a.items?.find((i) => i.kind === "koji-build") as { nvr: string }).nvr;

/** Pushes a rawhide build with a passing tier-0 result: rawhide-auto releases it to the f45 tag. */
export function rawhideBuild(pkg: string, version: string, outcome: "PASSED" | "FAILED" = "PASSED"): ArtifactInput {
  const base = sampleArtifact({ package: pkg });
  return {
    ...base,
    release: "rawhide",
    items: [
      { kind: "koji-build", nvr: `${pkg}-${version}-1.fc45`, buildId: 2_600_000 + Math.floor(Math.random() * 100_000), target: "f45", owner: "packager" },
      { kind: "ci-result", testcase: "fedora-ci.koji-build.tier0.functional", outcome, refUrl: "https://artifacts.dev.testing-farm.io/example" },
      { kind: "link", name: "koji task", url: "https://koji.fedoraproject.org/koji/taskinfo?taskID=1" },
    ],
  };
}

export async function seed(provider: TestProvider): Promise<Seeded> {
  const now = Date.now();
  const activeFreeze = { start: new Date(now - DAY_MS).toISOString(), end: new Date(now + 3 * DAY_MS).toISOString(), reason: "Fedora 44 final freeze" };
  const upcomingFreeze = { start: new Date(now + 5 * DAY_MS).toISOString(), end: new Date(now + 8 * DAY_MS).toISOString(), reason: "mass rebuild" };
  // Shipped rawhide-auto policy; environments of our own: one frozen, one upcoming freeze, one
  // writing to a remote that does not exist (its releases fail).
  const policiesDir = mkdtempSync(path.join(tmpdir(), "relengd-web-policies-"));
  mkdirSync(policiesDir, { recursive: true });
  copyFileSync(path.join(SHIPPED_POLICIES, "rawhide-auto.yaml"), path.join(policiesDir, "rawhide-auto.yaml"));
  writeFileSync(
    path.join(policiesDir, "environments.yaml"),
    `apiVersion: relengd/v1
kind: Environments
repositories:
  - name: gitops
  - name: broken
    url: ${path.join(policiesDir, "no-such-remote.git")}
environments:
  - name: rawhide
    repository: gitops
    kind: KojiTag
    kojiTag: { tag: f45 }
    description: Rawhide builds tagged for the next compose
    freezes:
      - { start: "${upcomingFreeze.start}", end: "${upcomingFreeze.end}", reason: "${upcomingFreeze.reason}" }
  - name: f44-updates-testing
    repository: gitops
    kind: BodhiUpdate
    bodhi: { release: F44, request: testing, type: bugfix }
    freezes:
      - { start: "${activeFreeze.start}", end: "${activeFreeze.end}", reason: "${activeFreeze.reason}" }
  - name: stuck
    repository: broken
    kind: KojiTag
    kojiTag: { tag: f45-stuck }
`,
  );
  // One attempt: a release to the missing remote fails at once instead of backing off.
  const t = await startTestApp(provider, { policiesDir, writer: { maxAttempts: 1 } });
  const ci = await t.auth("ci");
  const releaser = await t.auth("releaser");
  const reader = await t.auth("reader");

  const push = async (a: ArtifactInput) => {
    const res = await t.app.inject({ method: "POST", url: "/api/v1/artifacts", payload: a, headers: ci });
    expect(res.statusCode, res.body).toBe(201);
  };
  const releasesOf = async (artifactId: string) =>
    (await t.app.inject({ method: "GET", url: `/api/v1/releases?artifactId=${encodeURIComponent(artifactId)}`, headers: reader })).json().items as { id: string; status: string }[];

  const pushed: Seeded["pushed"] = [];
  for (const [pkg, version] of [
    ["python-requests", "2.32.3"],
    ["nmstate", "2.2.40"],
    ["python-requests", "2.32.4"],
  ] as const) {
    const a = rawhideBuild(pkg, version);
    await push(a);
    await t.writer.idle();
    const [r] = await releasesOf(a.id);
    expect(r?.status).toBe("pushed");
    pushed.push({ artifact: a, nvr: nvrOf(a), releaseId: (r as { id: string }).id });
  }
  const failing = rawhideBuild("kernel", "6.15.0", "FAILED");
  await push(failing);

  // A release to the missing remote: failed after its one attempt.
  const stuck = await t.app.inject({ method: "POST", url: "/api/v1/releases", payload: { artifactId: (pushed[1] as { artifact: ArtifactInput }).artifact.id, environment: "stuck" }, headers: releaser });
  expect(stuck.statusCode, stuck.body).toBe(202);
  const failedReleaseId = stuck.json().id as string;
  // A release to an environment no longer declared: the writer blocks it at write time.
  const first = (pushed[0] as { artifact: ArtifactInput }).artifact;
  const blocked = await t.releases.enqueue({ artifactId: first.id, environment: "retired", repository: "gitops", branch: "main", package: first.package, trigger: "user:someone", createdBy: "someone", force: false });
  if (blocked.status !== "queued") throw new Error("could not queue the release to be blocked");
  t.writer.notify("gitops");
  await t.writer.idle();
  // A release for a repository no writer serves: it stays queued.
  const queued = await t.releases.enqueue({ artifactId: first.id, environment: "ghost", repository: "ghost-repo", branch: "main", package: first.package, trigger: "user:someone", createdBy: "someone", force: false });
  if (queued.status !== "queued") throw new Error("could not queue the release that stays queued");

  const hold = await t.app.inject({ method: "POST", url: "/api/v1/holds", payload: { environment: "rawhide", package: "nmstate", reason: "regression in 2.2.40, see rhbz#2300001" }, headers: releaser });
  expect(hold.statusCode, hold.body).toBe(201);

  return {
    t,
    ci,
    releaser,
    reader,
    pushed,
    failing,
    failedReleaseId,
    blockedReleaseId: blocked.release.id,
    queuedReleaseId: queued.release.id,
    activeFreeze,
    upcomingFreeze,
    async close() {
      await t.close();
      rmSync(policiesDir, { recursive: true, force: true });
    },
  };
}

/** A second app on the same store and tokens, with RELENGD_ANONYMOUS_READ on. */
export async function anonymousReadApp(t: TestApp): Promise<FastifyInstance> {
  const app = await buildApp({
    ...appDepsOf(t),
    anonymousRead: true,
  });
  await app.ready();
  return app;
}
