// What the writer's steps pass along: a batch's releases with their artifacts, and its outcome.
import type { Artifact } from "../../domain/artifact.js";
import type { ReleaseToWrite } from "../../domain/commitPlan.js";
import { toReleaseSpec } from "../../domain/release.js";
import type { ReleaseRecord } from "../../store/releaseRepository.js";

export interface BatchResult {
  repository: string;
  pushed: { id: string; commitSha: string }[];
  superseded: string[];
  blocked: string[];
  failed: string[];
}

export const emptyResult = (repository: string): BatchResult => ({ repository, pushed: [], superseded: [], blocked: [], failed: [] });

/** A release of the batch and the artifact it releases. */
export interface BatchItem {
  release: ReleaseRecord;
  artifact: Artifact;
}

/** A person chose this build: a rollback, or a release forced with a reason. */
export const isExplicit = (r: ReleaseRecord): boolean => r.trigger === "rollback" || r.force;

/** A stored release as the commit plan sees it (`publicUrl` prefixes its repoclosure report's link). */
export function toWrite(r: ReleaseRecord, publicUrl?: string): ReleaseToWrite {
  return {
    spec: toReleaseSpec(r, publicUrl),
    bulk: r.bulk,
    explicit: isExplicit(r),
  };
}
