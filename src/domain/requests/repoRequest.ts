// RepoRequest: a new dist-git repository (a new package), as `fedpkg request-repo` asks for one.
import { z } from "zod";
import { repoPath } from "../paths.js";
import { wellFormedString } from "../text.js";
import { branchNameSchema, distgitNamespaces, proposedDocumentSchema, renderProposedYaml, repoNameSchema } from "./envelope.js";

/**
 * The union of `monitor_choices` of the request processor as deployed: toddlers (the first
 * three) and its successor poddlers (fedora-infra/ansible, the fedora-messaging.toml templates of
 * roles/openshift-apps/toddlers and poddlers): release-monitoring.org settings.
 */
export const monitorChoices = [
  "no-monitoring",
  "monitoring",
  "monitoring-with-scratch",
  "monitoring-all",
  "monitoring-all-scratch",
  "monitoring-stable",
  "monitoring-stable-scratch",
] as const;

/** Bugzilla bug ids are positive 32-bit integers. */
const BUG_ID_MAX = 2_147_483_647;

const oneLine = (max: number) =>
  wellFormedString()
    .max(max)
    .refine((v) => !/[\x00-\x1f\x7f]/.test(v), "must be one line of text (no line breaks or control characters)");

export const repoRequestSpecSchema = z.strictObject({
  namespace: z.enum(distgitNamespaces),
  repo: repoNameSchema(),
  // fedpkg of 2020 wrote "master"; today's writes "rawhide".
  branch: branchNameSchema().default("rawhide"),
  // The package review bug: fedpkg writes an integer, or "" with --exception; a digit string is what a person types in YAML.
  bug_id: z.union([
    z.number().int().min(1).max(BUG_ID_MAX),
    wellFormedString().regex(/^[1-9][0-9]{0,9}$/, "must be a bug number"),
    z.literal(""),
  ]),
  summary: oneLine(500),
  description: wellFormedString().max(10_000),
  // "" when the package has no upstream page (fedpkg sends what it was given).
  upstreamurl: z.union([z.literal(""), wellFormedString().max(2000).regex(/^(https?|ftp):\/\/[^\s]+$/, "must be an http(s) or ftp URL, or empty")]),
  monitor: z.enum(monitorChoices),
  exception: z.boolean(),
  initial_commit: z.boolean().optional(),
});

export const repoRequestSchema = proposedDocumentSchema("RepoRequest", repoRequestSpecSchema);
export type RepoRequestDocument = z.output<typeof repoRequestSchema>;
export type RepoRequestSpec = RepoRequestDocument["spec"];

export function repoRequestPath(spec: { namespace: string; repo: string }): string {
  return repoPath("distgit", "repos", spec.namespace, spec.repo) + ".yaml";
}

/** The review bug's number, or undefined when none is given. */
export function repoRequestBugId(spec: { bug_id: number | string }): number | undefined {
  return spec.bug_id === "" ? undefined : Number(spec.bug_id);
}

export function buildRepoRequest(spec: RepoRequestSpec): RepoRequestDocument {
  return { apiVersion: "relengd/v1", kind: "RepoRequest", spec };
}

export function renderRepoRequest(doc: RepoRequestDocument): string {
  return renderProposedYaml(doc);
}
