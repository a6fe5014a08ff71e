// Who may release what: the checks every release-shaped use case shares.
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

export function triggerOf(principal: Principal): string {
  return `user:${principal.subject}`;
}
