// Releases, artifacts and environments for the writer's step tests: records as the store returns them.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArtifact, type Artifact } from "../../src/domain/artifact.js";
import { DEFAULT_RAWHIDE_VERSION } from "../../src/domain/busMapping.js";
import type { EnvironmentSet } from "../../src/domain/environmentSet.js";
import { parseEnvironments } from "../../src/policy/environments.js";
import type { ReleaseRecord } from "../../src/store/releaseRepository.js";
import { sampleArtifact } from "./artifacts.js";

export const SHIPPED_ENVIRONMENTS = path.resolve(__dirname, "../../policies/environments.yaml");

/** The shipped environments (rawhide is a KojiTag into f45, f44-updates-testing a BodhiUpdate), written to `url`. */
export function shippedEnvironments(url = "/srv/gitops.git"): EnvironmentSet {
  return parseEnvironments(readFileSync(SHIPPED_ENVIRONMENTS, "utf8"), "environments.yaml", url);
}

export const rules = { rawhideVersion: DEFAULT_RAWHIDE_VERSION };

/** A Rawhide artifact of one koji build of `pkg` at `version`. */
export function rawhideArtifact(pkg: string, version: string, id = `a-${pkg}-${version}`): Artifact {
  const r = parseArtifact(sampleArtifact({ id, package: pkg, release: "rawhide", items: [{ kind: "koji-build", nvr: `${pkg}-${version}-1.fc${DEFAULT_RAWHIDE_VERSION}` }] }));
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

/** The n-th of a run of valid release ids (ULIDs). */
export const releaseId = (n: number): string => `01JB8ZQ3V4M6X7Y8Z9A0B1C${String(n).padStart(3, "0")}`;

let seq = 0;

/** A queued release of `artifact` to `environment`. */
export function queuedRelease(artifact: Pick<Artifact, "id" | "package">, over: Partial<ReleaseRecord> = {}): ReleaseRecord {
  seq++;
  const at = new Date(Date.UTC(2026, 10, 25, 12, 0, seq));
  return {
    seq,
    id: releaseId(seq),
    artifactId: artifact.id,
    environment: "rawhide",
    repository: "gitops",
    branch: "main",
    package: artifact.package,
    trigger: "policy/rawhide-auto",
    createdBy: "policy",
    force: false,
    forceReason: null,
    bulk: false,
    status: "queued",
    reason: null,
    supersededBy: null,
    error: null,
    attempts: 0,
    nextAttemptAt: null,
    commitSha: null,
    createdAt: at,
    updatedAt: at,
    pushedAt: null,
    preflight: null,
    repoclosureReportId: null,
    repoclosure: null,
    ...over,
  };
}
