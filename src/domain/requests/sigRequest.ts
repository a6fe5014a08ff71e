// SigRequest: a Special Interest Group with its FAS group and the dist-git access it gets, in the
// shape of releng's sig_policy.py (a group, and rules giving it an ACL on the repositories of a
// namespace whose names match). The path `sigs/<group>.yaml` names the group.
import { z } from "zod";
import { GLOB_PATTERN } from "../glob.js";
import { isSafeSegment, repoPath } from "../paths.js";
import { wellFormedString } from "../text.js";
import { distgitNamespaces, proposedDocumentSchema, renderProposedYaml } from "./envelope.js";

/** A FAS group name that is also a file name: lowercase as FreeIPA keeps it (python-sig, go-sig). */
export const SIG_GROUP_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
/** The access Pagure's ACLs give a group on a repository (dist-git's `acl` values). */
export const sigAcls = ["ticket", "collaborator", "commit", "admin"] as const;

export const MAX_SIG_MEMBERS = 1000;
export const MAX_SIG_RULES = 200;

const user = () => wellFormedString().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be a Fedora account name");

export const sigRuleSchema = z.strictObject({
  namespace: z.enum(distgitNamespaces),
  acl: z.enum(sigAcls),
  /** Repository names to give the ACL on: globs like `python-*`, `!python-foo`. */
  match: z.array(wellFormedString().regex(GLOB_PATTERN, "must be a glob like python-* or !python2-*")).min(1).max(100),
});

export const sigRequestSpecSchema = z.strictObject({
  group: wellFormedString()
    .regex(SIG_GROUP_PATTERN, { message: "must be a group name: lowercase letters, digits and _.-", abort: true })
    .refine(isSafeSegment, 'must be a group name without ".."'),
  description: wellFormedString()
    .min(1)
    .max(500)
    .refine((v) => !/[\x00-\x1f\x7f]/.test(v), "must be one line of text (no line breaks or control characters)"),
  members: z
    .array(user())
    .min(1)
    .max(MAX_SIG_MEMBERS)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((m, i) => {
        if (seen.has(m)) ctx.addIssue({ code: "custom", message: `names ${m} a second time`, path: [i] });
        seen.add(m);
      });
    }),
  acls: z.array(sigRuleSchema).max(MAX_SIG_RULES).default([]),
});

export const sigRequestSchema = proposedDocumentSchema("SigRequest", sigRequestSpecSchema);
export type SigRequestDocument = z.output<typeof sigRequestSchema>;
export type SigRequestSpec = SigRequestDocument["spec"];

export function sigRequestPath(spec: { group: string }): string {
  return repoPath("sigs", spec.group) + ".yaml";
}

export function buildSigRequest(spec: SigRequestSpec): SigRequestDocument {
  return { apiVersion: "relengd/v1", kind: "SigRequest", spec };
}

export function renderSigRequest(doc: SigRequestDocument): string {
  return renderProposedYaml(doc);
}
