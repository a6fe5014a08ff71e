// Use case: roll a package in an environment back to an earlier artifact, and hold it there
// so that auto-release does not undo the rollback.
import { artifactRuleViolations, describeViolations } from "../domain/artifactRules.js";
import { releaseRequirement } from "../domain/release.js";
import { effectivePreflight } from "../domain/releaseGate.js";
import type { RefusalCode } from "../domain/refusal.js";
import type { Principal } from "../domain/token.js";
import type { HoldRecord, ReleaseRecord } from "../store/releaseRepository.js";
import { releaseOf, wakeFor, type ReleaseDeps } from "./release.js";
import { buildsDenied, releaseDenied } from "./releaseAccess.js";

export interface RollbackRequest {
  environment: string;
  package: string;
  /** The artifact to go back to; default: the one pushed before the current one. */
  // Absent and undefined mean the same here: the request comes from parsed JSON.
  artifactId?: string | undefined;
  reason?: string | undefined;
}

export type RollbackOutcome =
  | { status: "queued"; release: ReleaseRecord; hold: HoldRecord }
  | { status: "forbidden"; reason: string }
  | { status: "unknown-environment"; environment: string }
  | { status: "unprocessable"; code: RefusalCode; reason: string };

export async function rollback(deps: ReleaseDeps, principal: Principal, req: RollbackRequest): Promise<RollbackOutcome> {
  const denied = releaseDenied(principal, req.environment, req.package);
  if (denied) return { status: "forbidden", reason: denied };
  const envs = deps.environments();
  const env = envs.environments.get(req.environment);
  if (!env) return { status: "unknown-environment", environment: req.environment };
  const repo = envs.repositories.get(env.repository);
  if (!repo) return { status: "unprocessable", code: "repository-undeclared", reason: `environment ${env.name} names an undeclared repository` };

  let targetId = req.artifactId;
  if (!targetId) {
    const history = await deps.releases.pushedHistory(env.name, req.package);
    const current = history[0];
    if (!current) return { status: "unprocessable", code: "nothing-to-roll-back-to", reason: `nothing of ${req.package} was ever pushed to ${env.name}` };
    const previous = history.find((r) => r.artifactId !== current.artifactId);
    if (!previous) return { status: "unprocessable", code: "nothing-to-roll-back-to", reason: `no artifact of ${req.package} was pushed to ${env.name} before ${current.artifactId}` };
    targetId = previous.artifactId;
  }
  const artifact = (await deps.artifacts.getMany([targetId])).get(targetId);
  if (!artifact) return { status: "unprocessable", code: "unknown-artifact", reason: `no artifact ${targetId}` };
  if (artifact.package !== req.package) return { status: "unprocessable", code: "package-mismatch", reason: `artifact ${targetId} is of package ${artifact.package}, not ${req.package}` };
  const buildDenied = buildsDenied(principal, artifact);
  if (buildDenied) return { status: "forbidden", reason: buildDenied };
  const violations = artifactRuleViolations(artifact, deps.rules);
  if (violations.length > 0) return { status: "unprocessable", code: violations[0]!.rule, reason: describeViolations(artifact.id, violations) };
  const requirement = releaseRequirement(artifact, env);
  if (!requirement.ok) return { status: "unprocessable", code: "artifact-incomplete", reason: requirement.reason };

  const preflight = effectivePreflight(env);
  const why = `rollback of ${req.package} in ${env.name} to ${artifact.id} by ${principal.subject}${req.reason ? `: ${req.reason}` : ""}`;
  const outcome = await deps.releases.enqueue({
    ...releaseOf(artifact, env.name, repo, "rollback", principal),
    // A rollback goes past its own hold and past "already released once".
    force: true,
    forceReason: why,
    hold: { reason: why },
    // A rollback of a compose is checked like any other: going back does not make its repos close.
    ...(preflight ? { preflight } : {}),
  });
  if (outcome.status !== "queued" || !outcome.hold) return { status: "unprocessable", code: "rollback-not-queued", reason: "rollback could not be queued" };
  wakeFor(deps, outcome.release);
  return { status: "queued", release: outcome.release, hold: outcome.hold };
}
