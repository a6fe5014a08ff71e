// Use case: a CI pipeline pushes a release artifact.
import type { Artifact, FieldIssue } from "../domain/artifact.js";
import { artifactRuleViolations, buildsOutsideScope, describeViolations, type ArtifactRuleOptions, type RuleViolation } from "../domain/artifactRules.js";
import { mayTouchPackage, roleAtLeast, type Principal } from "../domain/token.js";
import type { ArtifactRepository, IngestOutcome } from "../store/artifactRepository.js";

export type PushArtifactResult =
  | IngestOutcome
  /** `issues` names each koji-build outside the token's scope. */
  | { status: "forbidden"; reason: string; issues?: FieldIssue[] }
  | { status: "rule-broken"; reason: string; violations: RuleViolation[] };

export async function pushArtifact(
  deps: { artifacts: ArtifactRepository; rules: ArtifactRuleOptions },
  principal: Principal,
  artifact: Artifact,
): Promise<PushArtifactResult> {
  if (!roleAtLeast(principal.role, "ci")) {
    return { status: "forbidden", reason: `role ${principal.role} may not push artifacts (needs ci or above)` };
  }
  if (!mayTouchPackage(principal, artifact.package)) {
    return {
      status: "forbidden",
      reason: `token of ${principal.subject} is scoped to packages ${principal.packages?.join(", ")} and may not push package ${artifact.package}`,
    };
  }
  // The documents a release writes are keyed by the builds' names: a build of a package outside
  // the scope would let the token write that package's Koji tag or Bodhi update.
  const outside = buildsOutsideScope(principal, artifact);
  const first = outside[0];
  if (first) {
    return {
      status: "forbidden",
      reason: `token of ${principal.subject} may not push a build of another package: ${first.path} ${first.message}${outside.length > 1 ? ` (and ${outside.length - 1} more)` : ""}`,
      issues: outside,
    };
  }
  const violations = artifactRuleViolations(artifact, deps.rules);
  if (violations.length > 0) return { status: "rule-broken", reason: describeViolations(artifact.id, violations), violations };
  // Policies on new artifacts run inside the ingest transaction (see evaluateCreated); a re-push
  // changes nothing they look at.
  return deps.artifacts.ingest(artifact);
}
