// Use case: a failed release (its remote was unreachable too long) goes back to the queue; a
// release its repoclosure preflight blocked is checked again, with a fresh run of dnf.
import { RELEASE_STATUS } from "../domain/release.js";
import type { Principal } from "../domain/token.js";
import type { ArtifactRepository } from "../store/artifactRepository.js";
import type { ReleaseRecord, ReleaseRepository } from "../store/releaseRepository.js";
import { buildsDenied, releaseDenied } from "./releaseAccess.js";

export type RetryOutcome =
  /** Back in the writer's queue (`queued`), or waiting for its check again (`checking`). */
  | { status: "queued"; release: ReleaseRecord }
  | { status: "not-found" }
  | { status: "not-failed"; release: ReleaseRecord }
  | { status: "forbidden"; reason: string };

export async function retryRelease(
  deps: { releases: ReleaseRepository; artifacts: ArtifactRepository; notify: (repository: string) => void; checking?: () => void },
  principal: Principal,
  id: string,
): Promise<RetryOutcome> {
  const current = await deps.releases.get(id);
  if (!current) return { status: "not-found" };
  const denied = releaseDenied(principal, current.environment, current.package);
  if (denied) return { status: "forbidden", reason: denied };
  // The builds too: a policy may have queued an artifact whose builds reach past this token's scope.
  const artifact = (await deps.artifacts.getMany([current.artifactId])).get(current.artifactId);
  const buildDenied = artifact ? buildsDenied(principal, artifact) : undefined;
  if (buildDenied) return { status: "forbidden", reason: buildDenied };
  // A block of the gate is the only block a retry may lift: the check may say otherwise now
  // (the repos were fixed). A write-time block (hold, freeze) is lifted by lifting its cause.
  if (current.status === RELEASE_STATUS.blocked && current.preflight && current.repoclosureReportId && current.repoclosure === null) {
    const checking = await deps.releases.recheck(id);
    if (!checking) return { status: "not-failed", release: (await deps.releases.get(id)) ?? current };
    deps.checking?.();
    return { status: "queued", release: checking };
  }
  if (current.status !== RELEASE_STATUS.failed) return { status: "not-failed", release: current };
  const queued = await deps.releases.retry(id);
  if (!queued) return { status: "not-failed", release: (await deps.releases.get(id)) ?? current };
  deps.notify(queued.repository);
  return { status: "queued", release: queued };
}
