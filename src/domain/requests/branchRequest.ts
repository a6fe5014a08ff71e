// BranchRequest: a new branch of a dist-git repository, as `fedpkg request-branch` asks for one.
import { z } from "zod";
import { repoPath } from "../paths.js";
import { wellFormedString } from "../text.js";
import { branchNameSchema, distgitNamespaces, proposedDocumentSchema, renderProposedYaml, repoNameSchema } from "./envelope.js";

/** A service level name of `branch_slas` (security_fixes, bug_fixes, stable_api, …). */
export const SERVICE_LEVEL_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * The form fedpkg writes an end-of-life date in. Whether the date exists is the approval
 * policy's question (the deployed `branch_slas` itself holds 2029-11-31).
 */
export const SLA_DATE_PATTERN = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

export const branchRequestSpecSchema = z.strictObject({
  namespace: z.enum(distgitNamespaces),
  repo: repoNameSchema(),
  branch: branchNameSchema(),
  create_git_branch: z.boolean().default(true),
  sls: z
    .record(wellFormedString().regex(SERVICE_LEVEL_PATTERN, "must be a service level name like security_fixes"), wellFormedString().regex(SLA_DATE_PATTERN, "must be a date like 2030-12-01"))
    .refine((sls) => Object.keys(sls).length <= 32, "must name at most 32 service levels")
    .optional(),
});

export const branchRequestSchema = proposedDocumentSchema("BranchRequest", branchRequestSpecSchema);
export type BranchRequestDocument = z.output<typeof branchRequestSchema>;
export type BranchRequestSpec = BranchRequestDocument["spec"];

export function branchRequestPath(spec: { namespace: string; repo: string; branch: string }): string {
  return repoPath("distgit", "branches", spec.namespace, spec.repo, spec.branch) + ".yaml";
}

export function buildBranchRequest(spec: BranchRequestSpec): BranchRequestDocument {
  return { apiVersion: "relengd/v1", kind: "BranchRequest", spec };
}

export function renderBranchRequest(doc: BranchRequestDocument): string {
  return renderProposedYaml(doc);
}
