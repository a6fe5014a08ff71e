// Use case: a release engineer (or a policy) releases an artifact to an environment.
import type { ArtifactRuleOptions, RuleViolation } from "../domain/artifactRules.js";
import { effectivePreflight, releaseRefusal } from "../domain/releaseGate.js";
import type { RepoclosurePreflight } from "../domain/repoclosure.js";
import type { RefusalCode } from "../domain/refusal.js";
import type { Principal } from "../domain/token.js";
import type { EnvironmentSet } from "../domain/environmentSet.js";
import type { ArtifactRepository } from "../store/artifactRepository.js";
import type { HoldRecord, NewRelease, ReleaseRecord, ReleaseRepository } from "../store/releaseRepository.js";
import { buildsDenied, releaseDenied, triggerOf } from "./releaseAccess.js";

export interface ReleaseDeps {
  releases: ReleaseRepository;
  artifacts: ArtifactRepository;
  environments: () => EnvironmentSet;
  /** Wakes the writer of a repository. */
  notify: (repository: string) => void;
  /** Wakes the repoclosure gate: a release waits for its check (absent: nobody checks until a poll). */
  checking?: () => void;
  /** What the ingest rules need (the Rawhide version), checked again before a release is queued. */
  rules: ArtifactRuleOptions;
  /** The clock freezes are read on. */
  now?: () => Date;
}

export interface ReleaseRequest {
  artifactId: string;
  environment: string;
  // Absent and undefined mean the same here: the request comes from parsed JSON.
  force?: boolean | undefined;
  /** Required with force: recorded in the commit's Relengd-Force-Reason trailer. */
  reason?: string | undefined;
  /** Overrides a ComposeRequest environment's own preflight for this release. */
  preflight?: { repoclosure: RepoclosurePreflight } | undefined;
}

export type ReleaseOutcome =
  | { status: "queued"; release: ReleaseRecord }
  | { status: "forbidden"; reason: string }
  | { status: "unknown-environment"; environment: string }
  | { status: "unknown-artifact"; artifactId: string }
  | { status: "unprocessable"; code: RefusalCode; reason: string }
  /** A field of the request does not apply (`path` names it, as a JSON pointer into the body). */
  | { status: "field-refused"; code: RefusalCode; path: string; reason: string }
  /** The artifact breaks an ingest rule (stored before the rule existed): `violations[0].rule` is the code. */
  | { status: "rule-broken"; reason: string; violations: RuleViolation[] }
  | { status: "held"; hold: HoldRecord }
  | { status: "frozen"; reason: string }
  | { status: "duplicate"; existing: ReleaseRecord };

export async function release(deps: ReleaseDeps, principal: Principal, req: ReleaseRequest, trigger = triggerOf(principal)): Promise<ReleaseOutcome> {
  const denied = releaseDenied(principal, req.environment);
  if (denied) return { status: "forbidden", reason: denied };
  const envs = deps.environments();
  const env = envs.environments.get(req.environment);
  if (!env) return { status: "unknown-environment", environment: req.environment };
  const repo = envs.repositories.get(env.repository);
  if (!repo) return { status: "unprocessable", code: "repository-undeclared", reason: `environment ${env.name} names repository ${env.repository}, which is not declared` };
  if (req.preflight && env.kind !== "ComposeRequest") {
    return { status: "field-refused", code: "preflight-not-applicable", path: "/preflight", reason: `environment ${env.name} is a ${env.kind} environment; a preflight is checked before a ComposeRequest only` };
  }
  const artifact = (await deps.artifacts.getMany([req.artifactId])).get(req.artifactId);
  if (!artifact) return { status: "unknown-artifact", artifactId: req.artifactId };
  const pkgDenied = releaseDenied(principal, req.environment, artifact.package) ?? buildsDenied(principal, artifact);
  if (pkgDenied) return { status: "forbidden", reason: pkgDenied };
  // Holds are the store's to check: it reads them in the transaction that queues.
  const refusal = releaseRefusal(artifact, env, { rules: deps.rules, now: deps.now?.() ?? new Date(), force: req.force ?? false });
  switch (refusal?.kind) {
    case "rule-broken":
      return { status: "rule-broken", reason: refusal.reason, violations: refusal.violations };
    case "incomplete":
      return { status: "unprocessable", code: "artifact-incomplete", reason: refusal.reason };
    case "frozen":
      return { status: "frozen", reason: `${refusal.reason}; force with a reason to release anyway` };
  }

  const preflight = effectivePreflight(env, req.preflight?.repoclosure);
  const outcome = await deps.releases.enqueue({
    ...releaseOf(artifact, env.name, repo, trigger, principal),
    force: req.force ?? false,
    ...(req.force && req.reason ? { forceReason: req.reason } : {}),
    ...(preflight ? { preflight } : {}),
  });
  if (outcome.status === "queued") wakeFor(deps, outcome.release);
  return outcome;
}

/** A release just stored goes to the gate first when it has a preflight, else to its writer. */
export function wakeFor(deps: Pick<ReleaseDeps, "notify" | "checking">, release: { status: string; repository: string }): void {
  if (release.status === "checking") deps.checking?.();
  else deps.notify(release.repository);
}

/** Who releases which artifact where: what every release a person asks for is queued with. */
export function releaseOf(
  artifact: { id: string; package: string },
  environment: string,
  repository: { name: string; branch: string },
  trigger: string,
  principal: Principal,
): Pick<NewRelease, "artifactId" | "environment" | "repository" | "branch" | "package" | "trigger" | "createdBy"> {
  return { artifactId: artifact.id, environment, repository: repository.name, branch: repository.branch, package: artifact.package, trigger, createdBy: principal.subject };
}
