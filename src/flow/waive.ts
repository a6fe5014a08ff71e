// Use case: a release engineer waives a failed or missing result of an artifact (or revokes the waiver); the policies decide again.
import { mismatch } from "../domain/policy.js";
import { mayTouchPackage, roleAtLeast, type Principal } from "../domain/token.js";
import type { PolicySet } from "../policy/loader.js";
import type { ArtifactRepository } from "../store/artifactRepository.js";
import type { WaiverRecord, WaiverRepository } from "../store/waiverRepository.js";
import type { PolicyEventHandler } from "./evaluatePolicies.js";
import { releaseDenied } from "./releaseAccess.js";

export interface WaiveDeps {
  artifacts: ArtifactRepository;
  waivers: WaiverRepository;
  policies: () => PolicySet;
  policyEvent?: PolicyEventHandler;
}

export interface WaiveInput {
  testcase: string;
  scenario?: string | undefined;
  comment: string;
  /** false revokes an earlier waiver of the same (testcase, scenario). */
  waived: boolean;
}

export type WaiveResult = { status: "created"; waiver: WaiverRecord } | { status: "not-found" } | { status: "forbidden"; reason: string };

/**
 * A waiver may let policies release the artifact, so it takes what a release takes: the
 * releaser role, the artifact's package in the token's scope, and every environment a policy
 * matching the artifact releases to in its environment scope.
 */
export async function waive(deps: WaiveDeps, principal: Principal, artifactId: string, input: WaiveInput, now = new Date()): Promise<WaiveResult> {
  if (!roleAtLeast(principal.role, "releaser")) return { status: "forbidden", reason: `role ${principal.role} may not waive results (needs releaser or above)` };
  const stored = await deps.artifacts.get(artifactId);
  if (!stored) return { status: "not-found" };
  const artifact = stored.artifact;
  if (!mayTouchPackage(principal, artifact.package)) {
    return { status: "forbidden", reason: `token of ${principal.subject} is scoped to packages ${principal.packages?.join(", ")} and may not touch ${artifact.package}` };
  }
  const targets = new Set(deps.policies().policies.filter((p) => mismatch(p, artifact) === undefined).map((p) => p.spec.release.environment));
  for (const environment of targets) {
    const denied = releaseDenied(principal, environment, artifact.package);
    if (denied) return { status: "forbidden", reason: `a waiver on artifact ${artifactId} may release it to ${environment}: ${denied}` };
  }
  const waiver = await deps.waivers.create(
    {
      artifactId,
      nvr: null,
      testcase: input.testcase,
      ...(input.scenario !== undefined ? { scenario: input.scenario } : {}),
      waived: input.waived,
      comment: input.comment,
      username: principal.subject,
      source: "api",
      messageId: null,
      waivedAt: now,
    },
    now,
  );
  await deps.policyEvent?.(artifactId, "waiver");
  return { status: "created", waiver };
}
