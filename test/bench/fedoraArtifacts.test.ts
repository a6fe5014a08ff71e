// The ingest benchmark's two paths stay what they claim: the f41 push matches no shipped policy,
// the Rawhide push passes the ingest rules and fires the shipped rawhide-auto, a package each.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ingestArtifact, rawhideArtifact, rawhidePackageName } from "../../bench/fedoraArtifacts.js";
import { parseArtifact, type Artifact, type ArtifactInput } from "../../src/domain/artifact.js";
import { artifactRuleViolations } from "../../src/domain/artifactRules.js";
import { DEFAULT_RAWHIDE_VERSION } from "../../src/domain/busMapping.js";
import { decide, mismatch, type DecisionContext } from "../../src/domain/policy.js";
import { loadPolicies } from "../../src/policy/loader.js";

const shipped = loadPolicies(path.resolve(__dirname, "../../policies"), "/tmp/unused-remote.git").policies;

function parsed(input: ArtifactInput): Artifact {
  const result = parseArtifact(input);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

const context: DecisionContext = { now: new Date("2026-12-06T12:00:00Z"), results: [], waivers: [], freezes: [], pushedAt: new Map(), environmentExists: true };

describe("bench artifacts", () => {
  it("pushes for f41 that no shipped policy matches", () => {
    const artifact = parsed(ingestArtifact("relengd-1-7", 7));
    expect(artifactRuleViolations(artifact, { rawhideVersion: DEFAULT_RAWHIDE_VERSION })).toEqual([]);
    expect(shipped.filter((p) => p.spec.on.includes("artifact") && mismatch(p, artifact) === undefined).map((p) => p.metadata.name)).toEqual([]);
  });

  it("pushes a Rawhide build that passes the ingest rules and fires rawhide-auto alone", () => {
    const artifact = parsed(rawhideArtifact("relengd-1-7", 7, "relengd-1-"));
    expect(artifact.release).toBe("rawhide");
    expect(artifactRuleViolations(artifact, { rawhideVersion: DEFAULT_RAWHIDE_VERSION })).toEqual([]);
    const fired = shipped.filter((p) => p.spec.on.includes("artifact") && decide(p, artifact, context).fire).map((p) => p.metadata.name);
    expect(fired).toEqual(["rawhide-auto"]);
  });

  it("gives every push of a run, and every run, a package of its own", () => {
    const names = new Set<string>();
    for (const run of ["echo-1-", "relengd-1-", "relengd-2-"]) for (let n = 1; n <= 500; n++) names.add(rawhidePackageName(run, n));
    expect(names.size).toBe(1500);
    expect(rawhideArtifact("x", 42, "relengd-1-").package).toBe(rawhidePackageName("relengd-1-", 42));
  });
});
