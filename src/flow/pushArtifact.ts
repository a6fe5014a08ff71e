// Use case: a CI pipeline pushes a release artifact.
import type { Artifact } from "../domain/artifact.js";
import { mayTouchPackage, roleAtLeast, type Principal } from "../domain/token.js";
import type { ArtifactRepository, IngestOutcome } from "../store/artifactRepository.js";

export type PushArtifactResult = IngestOutcome | { status: "forbidden"; reason: string };

export async function pushArtifact(
  deps: { artifacts: ArtifactRepository },
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
  // Policies on new artifacts run inside the ingest transaction (see evaluateCreated); a re-push
  // changes nothing they look at.
  return deps.artifacts.ingest(artifact);
}
