// The release gate: what stops an artifact from being released to an environment at a given
// moment. The release flow asks it before queueing, the policies before firing, the writer
// again just before writing (a hold placed or a freeze begun since stops a queued release).
// The repoclosure preflight's verdict is judged here too. The clock is the caller's: every rule
// here is pure.
import type { Artifact } from "./artifact.js";
import { artifactRuleViolations, describeViolations, type ArtifactRuleOptions, type RuleViolation } from "./artifactRules.js";
import type { Environment } from "./environment.js";
import { activeFreeze, describeFreeze, type ActiveFreeze, type Freeze } from "./freeze.js";
import { heldReason } from "./hold.js";
import { releaseRequirement } from "./release.js";
import { describeBroken, repoclosureTrailerValue, type BrokenDepsReport } from "./brokenDeps.js";
import type { RepoclosurePreflight } from "./repoclosure.js";

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

/**
 * The repoclosure preflight a release to `environment` is checked with: the ad-hoc body's
 * `override`, else the environment's; none when neither asks (or it says `strictness: off`).
 */
export function effectivePreflight(environment: Environment, override?: RepoclosurePreflight): RepoclosurePreflight | undefined {
  const chosen = override ?? (environment.kind === "ComposeRequest" ? environment.preflight?.repoclosure : undefined);
  return chosen && chosen.strictness !== "off" ? chosen : undefined;
}

/** What the repoclosure check said, as the gate judges it (a stored broken-deps report's row). */
export interface RepoclosureVerdict {
  id: string;
  status: "ok" | "broken" | "error";
  error: string | null;
  report: BrokenDepsReport | null;
}

/** Where a `checking` release goes once its check has a result. */
export type GateOutcome = { status: "blocked"; reason: string } | { status: "queued"; repoclosure: string };

/**
 * Pungi's strictness over the check's result: a check that could not run is never a pass;
 * unresolved dependencies block a `fatal` preflight and are only noted (the commit's trailer)
 * by a `lenient` one. `reportUrl` is the report's page, named in the reason.
 */
export function gateOutcome(strictness: RepoclosurePreflight["strictness"], verdict: RepoclosureVerdict, reportUrl: string): GateOutcome {
  if (verdict.status === "error" || !verdict.report) return { status: "blocked", reason: `repoclosure could not run: ${verdict.error ?? "no report"} (${reportUrl})` };
  if (verdict.status === "broken" && strictness === "fatal") return { status: "blocked", reason: `${describeBroken(verdict.report)} (${reportUrl})` };
  return { status: "queued", repoclosure: repoclosureTrailerValue(verdict.report) };
}
