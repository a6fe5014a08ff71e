// The release gate: what stops an artifact from being released to an environment at a given
// moment. The release flow asks it before queueing, the policies before firing, the writer
// again just before writing (a hold placed or a freeze begun since stops a queued release).
// The clock is the caller's: every rule here is pure.
import type { Artifact } from "./artifact.js";
import { artifactRuleViolations, describeViolations, type ArtifactRuleOptions, type RuleViolation } from "./artifactRules.js";
import type { Environment } from "./environment.js";
import { activeFreeze, describeFreeze, type ActiveFreeze, type Freeze } from "./freeze.js";
import { heldReason } from "./hold.js";
import { releaseRequirement } from "./release.js";

/** What stops a release that is not forced, for a while: a hold, else a freeze. */
export type ReleaseStop = { kind: "held"; reason: string } | { kind: "frozen"; reason: string; freeze: ActiveFreeze };

export interface StopFacts {
  environment: string;
  package: string;
  artifactId: string;
  freezes: readonly Freeze[];
  /** The hold on (environment, package), if any. */
  hold?: { reason: string } | undefined;
  now: Date;
}

/** The hold or freeze that stops the release now, if any; a hold is named first. */
export function releaseStop(facts: StopFacts): ReleaseStop | undefined {
  if (facts.hold) return { kind: "held", reason: heldReason({ environment: facts.environment, package: facts.package, reason: facts.hold.reason }) };
  const frozen = activeFreeze(facts.freezes, facts.now, facts.package, facts.artifactId);
  return frozen ? { kind: "frozen", reason: describeFreeze(facts.environment, frozen), freeze: frozen } : undefined;
}

/** Why an artifact cannot be released to an environment. */
export type ReleaseRefusal =
  | { kind: "rule-broken"; reason: string; violations: RuleViolation[] }
  | { kind: "incomplete"; reason: string }
  | ReleaseStop;

/** What the artifact itself lacks for the environment: an ingest rule it breaks, then what the request document needs. */
export function artifactRefusal(artifact: Artifact, environment: Environment, rules: ArtifactRuleOptions): ReleaseRefusal | undefined {
  const violations = artifactRuleViolations(artifact, rules);
  if (violations.length > 0) return { kind: "rule-broken", reason: describeViolations(artifact.id, violations), violations };
  const requirement = releaseRequirement(artifact, environment);
  return requirement.ok ? undefined : { kind: "incomplete", reason: requirement.reason };
}

export interface GateFacts {
  rules: ArtifactRuleOptions;
  now: Date;
  /** Forced with a reason: holds and freezes do not stop it. */
  force: boolean;
  hold?: { reason: string } | undefined;
}

/** artifactRefusal, then (when not forced) releaseStop: the first that stops the release is the answer. */
export function releaseRefusal(artifact: Artifact, environment: Environment, facts: GateFacts): ReleaseRefusal | undefined {
  const refusal = artifactRefusal(artifact, environment, facts.rules);
  if (refusal || facts.force) return refusal;
  return releaseStop({ environment: environment.name, package: artifact.package, artifactId: artifact.id, freezes: environment.freezes, hold: facts.hold, now: facts.now });
}

/** A queued release as the write-time gate sees it. */
export interface QueuedRelease {
  environment: string;
  package: string;
  artifactId: string;
  force: boolean;
}

export interface WriteGateFacts {
  rules: ArtifactRuleOptions;
  now: Date;
  /** The hold on the release's (environment, package), if any. */
  hold?: { reason: string } | undefined;
  /** The repository the writer asking writes. */
  repository: string;
  /** Where environments are declared (named in the reason when one is gone). */
  declaredIn: string;
}

/**
 * Why a queued release must not be written now (it becomes `blocked` with the reason), or
 * undefined when it may: the environment must still be declared and write to this repository,
 * the artifact must still exist, and the release gate must still let it through.
 */
export function writeRefusal(release: QueuedRelease, environment: Environment | undefined, artifact: Artifact | undefined, facts: WriteGateFacts): string | undefined {
  if (!environment) return `environment ${release.environment} is no longer declared in ${facts.declaredIn}`;
  if (environment.repository !== facts.repository) return `environment ${release.environment} now writes to repository ${environment.repository}`;
  if (!artifact) return `artifact ${release.artifactId} no longer exists`;
  const refusal = artifactRefusal(artifact, environment, facts.rules);
  if (refusal || release.force) return refusal?.reason;
  return releaseStop({ environment: release.environment, package: release.package, artifactId: release.artifactId, freezes: environment.freezes, hold: facts.hold, now: facts.now })?.reason;
}
