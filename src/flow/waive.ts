// Use case: a release engineer waives a failed or missing result of an artifact (or revokes the waiver); the policies decide again.
import { mayTouchPackage, roleAtLeast, type Principal } from "../domain/token.js";
import type { ArtifactRepository } from "../store/artifactRepository.js";
import type { WaiverRecord, WaiverRepository } from "../store/waiverRepository.js";
import type { PolicyEventHandler } from "./evaluatePolicies.js";
import { buildsDenied } from "./releaseAccess.js";

export interface WaiveDeps {
  artifacts: ArtifactRepository;
  waivers: WaiverRepository;
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
 * releaser role and the artifact's package in the token's scope. A token scoped to some
 * environments makes a waiver that acts only on releases to those environments.
 */
export async function waive(deps: WaiveDeps, principal: Principal, artifactId: string, input: WaiveInput, now = new Date()): Promise<WaiveResult> {
  if (!roleAtLeast(principal.role, "releaser")) return { status: "forbidden", reason: `role ${principal.role} may not waive results (needs releaser or above)` };
  const artifact = (await deps.artifacts.getMany([artifactId])).get(artifactId);
  if (!artifact) return { status: "not-found" };
  if (!mayTouchPackage(principal, artifact.package)) {
    return { status: "forbidden", reason: `token of ${principal.subject} is scoped to packages ${principal.packages?.join(", ")} and may not touch ${artifact.package}` };
  }
  // Every build the waiver could let through is in scope, as for a release of the artifact.
  const buildDenied = buildsDenied(principal, artifact);
  if (buildDenied) return { status: "forbidden", reason: buildDenied };
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
      ...(principal.environments !== undefined ? { environments: principal.environments } : {}),
      waivedAt: now,
    },
    now,
  );
  await deps.policyEvent?.(artifactId, "waiver");
  return { status: "created", waiver };
}
