// Step: the write-time gate. Releases that no longer qualify now become `blocked` with the reason.
import { environmentPackageKey } from "../../domain/environmentPackage.js";
import type { ArtifactRuleOptions } from "../../domain/artifactRules.js";
import { writeRefusal } from "../../domain/releaseGate.js";
import type { EnvironmentSet } from "../../domain/environmentSet.js";
import type { ArtifactRepository } from "../../store/artifactRepository.js";
import type { ReleaseRecord, ReleaseRepository } from "../../store/releaseRepository.js";
import type { BatchItem, BatchResult } from "./batch.js";

export interface RecheckDeps {
  releases: Pick<ReleaseRepository, "holdsOn" | "markBlocked">;
  artifacts: Pick<ArtifactRepository, "getMany">;
  environments: EnvironmentSet;
  rules: ArtifactRuleOptions;
  /** The repository being written. */
  repository: string;
  now: Date;
}

/** The releases of `batch` that may still be written, with their artifacts; the others are blocked. */
export async function recheck(deps: RecheckDeps, batch: readonly ReleaseRecord[], result: BatchResult): Promise<BatchItem[]> {
  const artifacts = await deps.artifacts.getMany(batch.map((r) => r.artifactId));
  // One read for the batch's holds (a hold is rare; a batch is hundreds of releases).
  const holds = await deps.releases.holdsOn(batch.filter((r) => !r.force).map((r) => ({ environment: r.environment, package: r.package })));
  const out: BatchItem[] = [];
  for (const release of batch) {
    const artifact = artifacts.get(release.artifactId);
    const reason = writeRefusal(release, deps.environments.environments.get(release.environment), artifact, {
      rules: deps.rules,
      now: deps.now,
      hold: holds.get(environmentPackageKey(release)),
      repository: deps.repository,
      declaredIn: deps.environments.source,
    });
    if (reason || !artifact) {
      await deps.releases.markBlocked(release.id, reason ?? "artifact missing");
      result.blocked.push(release.id);
    } else out.push({ release, artifact });
  }
  return out;
}
