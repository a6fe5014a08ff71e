// What every proposed document (a request a person writes) shares: apiVersion, kind, spec and
// nothing else, and YAML out without relengd's header (the file is the person's, not relengd's).
import { stringify } from "yaml";
import { z } from "zod";
import { API_VERSION } from "../documents/envelope.js";
import { isSafeSegment } from "../paths.js";
import { wellFormedString } from "../text.js";

/**
 * Strict: no `metadata` and no other field. relengd adds nothing to a request's file; what it
 * learns about a request goes into the store, the API and the merge commit's trailers.
 */
export function proposedDocumentSchema<K extends string, S extends z.ZodType>(kind: K, spec: S) {
  return z.strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    spec,
  });
}

/** YAML text of a proposed document; key order is the schema's, so equal documents are equal bytes. */
export function renderProposedYaml(doc: unknown): string {
  return stringify(doc, { lineWidth: 0, indent: 2 });
}

/**
 * A dist-git repository name as the request processor accepts it (fedpkg request-repo and
 * toddlers' scm_request_processor check `^[a-zA-Z0-9_][a-zA-Z0-9-_.+]*$`).
 */
export const REPO_NAME_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9-_.+]*$/;

/**
 * The dist-git namespaces of src.fedoraproject.org that fedpkg files requests for (the keys of
 * the request processor's `pagure_namespace_to_component`, plus `flatpaks` and `tests`, which
 * have repositories but no review component).
 */
export const distgitNamespaces = ["rpms", "container", "modules", "flatpaks", "tests", "test-modules"] as const;

/** A repository name that is also a safe path segment (it names a folder of the GitOps repo). */
export const repoNameSchema = () =>
  wellFormedString()
    // One message per cause: a name that breaks the pattern is not also told about its length or "..".
    .regex(REPO_NAME_PATTERN, { message: "must be a repository name: letters, digits and -_.+, not starting with - . or +", abort: true })
    .max(128, { abort: true })
    .refine(isSafeSegment, 'must be a repository name without ".."');

/**
 * A dist-git branch name: release branches (f44, epel10.1, rawhide), the 2020 default `master`,
 * and the non-standard ones real tickets hold (`9`). It names a file, so it is a safe segment.
 */
export const BRANCH_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

export const branchNameSchema = () =>
  wellFormedString()
    .regex(BRANCH_NAME_PATTERN, { message: "must be a branch name: letters, digits and ._+-, starting with a letter or digit", abort: true })
    .refine(isSafeSegment, 'must be a branch name without ".."');
