// Use case: CI results that finished after the build are appended to an artifact.
import { artifactLimits, type CiResultItem } from "../domain/artifact.js";
import { mayTouchPackage, roleAtLeast, type Principal } from "../domain/token.js";
import type { AppendOutcome, ArtifactRepository } from "../store/artifactRepository.js";

export type AppendResultsResult = AppendOutcome | { status: "forbidden"; reason: string };

export async function appendResults(
  deps: { artifacts: ArtifactRepository },
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
  // Results change what policies decide: re-evaluation plugs in here (policy engine issue).
  return deps.artifacts.appendResults(artifactId, results, artifactLimits.resultsPerArtifact);
}
