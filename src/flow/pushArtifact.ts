// Use case: a CI pipeline pushes a release artifact.
import type { Artifact } from "../domain/artifact.js";
import { mayTouchPackage, roleAtLeast, type Principal } from "../domain/token.js";
import type { ArtifactRepository, IngestOutcome } from "../store/artifactRepository.js";
import type { PolicyEventHandler } from "./evaluatePolicies.js";

export type PushArtifactResult = IngestOutcome | { status: "forbidden"; reason: string };

export async function pushArtifact(
  deps: { artifacts: ArtifactRepository; policyEvent?: PolicyEventHandler },
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
  const outcome = await deps.artifacts.ingest(artifact);
  // Only a new artifact is news to the policies; a re-push changes nothing they look at.
  if (outcome.status === "created") await deps.policyEvent?.(artifact.id, "artifact", { artifact, results: [] });
  return outcome;
}
