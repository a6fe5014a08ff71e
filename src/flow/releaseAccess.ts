// Who may release what: the checks every release-shaped use case shares.
import type { Artifact } from "../domain/artifact.js";
import { buildsOutsideScope } from "../domain/artifactRules.js";
import { mayTouchEnvironment, mayTouchPackage, roleAtLeast, type Principal } from "../domain/token.js";

/** A reason in words when `principal` may not release `pkg` to `environment`, else undefined. */
export function releaseDenied(principal: Principal, environment: string, pkg?: string): string | undefined {
  if (!roleAtLeast(principal.role, "releaser")) return `role ${principal.role} may not release (needs releaser or above)`;
  if (!mayTouchEnvironment(principal, environment)) {
    return `token of ${principal.subject} is scoped to environments ${principal.environments?.join(", ")} and may not touch ${environment}`;
  }
  if (pkg !== undefined && !mayTouchPackage(principal, pkg)) {
    return `token of ${principal.subject} is scoped to packages ${principal.packages?.join(", ")} and may not touch ${pkg}`;
  }
  return undefined;
}

/**
 * A reason in words when one of `artifact`'s koji-builds is of a package outside the token's
 * scope: the request document is keyed by the build's name, not by the artifact's `package`.
 */
export function buildsDenied(principal: Principal, artifact: Pick<Artifact, "id" | "items">): string | undefined {
  const outside = buildsOutsideScope(principal, artifact);
  const first = outside[0];
  if (!first) return undefined;
  return `token of ${principal.subject} may not release artifact ${artifact.id}: ${first.path} ${first.message}${outside.length > 1 ? ` (and ${outside.length - 1} more)` : ""}`;
}

export function triggerOf(principal: Principal): string {
  return `user:${principal.subject}`;
}
