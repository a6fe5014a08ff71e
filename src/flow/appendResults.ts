// Use case: CI results that finished after the build are appended to an artifact.
import { artifactLimits, type CiResultItem } from "../domain/artifact.js";
import { mayTouchPackage, roleAtLeast, type Principal } from "../domain/token.js";
import type { AppendOutcome, ArtifactRepository } from "../store/artifactRepository.js";
import type { PolicyEventHandler } from "./evaluatePolicies.js";

export type AppendResultsResult = AppendOutcome | { status: "forbidden"; reason: string };

export async function appendResults(
  deps: { artifacts: ArtifactRepository; policyEvent?: PolicyEventHandler },
  principal: Principal,
  artifactId: string,
  results: CiResultItem[],
): Promise<AppendResultsResult> {
  if (!roleAtLeast(principal.role, "ci")) {
    return { status: "forbidden", reason: `role ${principal.role} may not append results (needs ci or above)` };
  }
  const pkg = await deps.artifacts.packageOf(artifactId);
  if (pkg === null) return { status: "not-found" };
  if (!mayTouchPackage(principal, pkg)) {
    return {
      status: "forbidden",
      reason: `token of ${principal.subject} is scoped to packages ${principal.packages?.join(", ")} and may not touch package ${pkg}`,
    };
  }
  const outcome = await deps.artifacts.appendResults(artifactId, results, artifactLimits.resultsPerArtifact);
  // A gated artifact waits for its results: new or changed ones may let a policy fire now.
  if (outcome.status === "appended" && outcome.added + outcome.updated > 0) await deps.policyEvent?.(artifactId, "results");
  return outcome;
}
