// Policy evaluation: on artifacts just stored (inside their transaction), and on later events
// (results appended), each leaving a decision and queueing what fires.
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseArtifact, type Artifact } from "../../src/domain/artifact.js";
import { DEFAULT_RAWHIDE_VERSION } from "../../src/domain/busMapping.js";
import { evaluateCreatedIn, evaluatePolicies, policyEventHandler, type EvaluateDeps } from "../../src/flow/evaluatePolicies.js";
import { fixedPolicies, PolicyHolder } from "../../src/policy/loader.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { DecisionRepository, type NewDecision } from "../../src/store/decisionRepository.js";
import { ReleaseRepository } from "../../src/store/releaseRepository.js";
import { WaiverRepository } from "../../src/store/waiverRepository.js";
import { sampleArtifact } from "../support/artifacts.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";

const POLICIES = path.resolve(__dirname, "../../policies");

/** A Rawhide build pushed without results: rawhide-auto waits for tier-0. */
function untested(pkg: string): Artifact {
  const p = parseArtifact(
    sampleArtifact({
      package: pkg,
      release: "rawhide",
      source: { repo: `https://src.fedoraproject.org/rpms/${pkg}.git`, sha: "3c92f33a1b2c3d4e5f60718293a4b5c6d7e8f901", branch: "rawhide", event: "build" },
      items: [{ kind: "koji-build", nvr: `${pkg}-1.0-1.fc${DEFAULT_RAWHIDE_VERSION}`, buildId: 1, taskId: 2, target: "rawhide", owner: "packager" }],
    }),
  );
  if (!p.ok) throw new Error(JSON.stringify(p.issues));
  return p.value;
}

describe.each(testProviders)("evaluatePolicies on %s", (provider) => {
  let database: TestDatabase;
  let deps: EvaluateDeps;
  let notified: string[];
  let decided: NewDecision[];

  beforeEach(async () => {
    database = await freshDatabase(provider);
    const store = database.db;
    const policies = new PolicyHolder(POLICIES, "file:///nowhere/gitops.git");
    notified = [];
    decided = [];
    deps = {
      store,
      artifacts: new ArtifactRepository(store),
      releases: new ReleaseRepository(store),
      decisions: new DecisionRepository(store),
      waivers: new WaiverRepository(store),
      policies: () => policies.get(),
      notify: (repository) => notified.push(repository),
      rules: { rawhideVersion: DEFAULT_RAWHIDE_VERSION },
      decided: (list) => decided.push(...list),
    };
  });
  afterEach(async () => {
    await database.dispose();
  });

  it("decides on artifacts just stored inside their transaction: waiting without tier-0, nothing queued", async () => {
    const a = untested("nano");
    const evaluation = await database.db.transaction(async (tx) => {
      await deps.artifacts.insertIn(tx, [a]);
      return evaluateCreatedIn(deps, tx, [a]);
    });
    expect(evaluation.queuedIn).toEqual(new Set());
    expect(evaluation.decisions.find((d) => d.policy === "rawhide-auto")).toMatchObject({ fired: false, waiting: true, artifactId: a.id });
    expect((await deps.decisions.forArtifact(a.id)).map((d) => d.policy)).toContain("rawhide-auto");
  });

  it("decides nothing when no policy runs on new artifacts", async () => {
    const a = untested("ed");
    const none = { ...deps, policies: () => fixedPolicies({ policies: [], environments: deps.policies().environments }).get() };
    const evaluation = await database.db.transaction(async (tx) => {
      await deps.artifacts.insertIn(tx, [a]);
      return evaluateCreatedIn(none, tx, [a]);
    });
    expect(evaluation).toEqual({ decisions: [], queuedIn: new Set(), checking: false });
    expect(await deps.decisions.forArtifact(a.id)).toEqual([]);
  });

  it("releases an artifact once its results satisfy the policy, telling the writer and counting the decisions", async () => {
    const a = untested("vim");
    await deps.artifacts.ingest(a);
    await deps.artifacts.appendResults(a.id, [{ kind: "ci-result", testcase: "fedora-ci.koji-build.tier0.functional", outcome: "PASSED" }], 100);
    const decisions = await evaluatePolicies(deps, a.id, "results");
    const fired = decisions.find((d) => d.policy === "rawhide-auto");
    expect(fired).toMatchObject({ fired: true, event: "results" });
    const releases = (await deps.releases.list({ artifactId: a.id, limit: 5 })).items;
    expect(releases).toMatchObject([{ id: fired?.releaseId, environment: "rawhide", trigger: "policy/rawhide-auto" }]);
    expect(notified).toEqual([releases[0]?.repository]);
    expect(decided).toEqual(decisions);
    // Again: already released, a decision that says so.
    expect((await evaluatePolicies(deps, a.id, "results")).find((d) => d.policy === "rawhide-auto")).toMatchObject({ fired: false, reason: expect.stringContaining("already released") });
    expect(await evaluatePolicies(deps, "unknown", "results")).toEqual([]);
  });

  it("hands evaluation failures to the handler's onError instead of the caller", async () => {
    const failures: string[] = [];
    const broken = { ...deps, artifacts: { get: () => Promise.reject(new Error("store down")) } as unknown as ArtifactRepository };
    await policyEventHandler(broken, (err, artifactId) => failures.push(`${artifactId}: ${(err as Error).message}`))("a-1", "results");
    expect(failures).toEqual(["a-1: store down"]);
  });
});
