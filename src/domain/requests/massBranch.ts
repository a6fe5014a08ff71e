// MassBranch: a Fedora release branched from rawhide, as releng's mass-branching SOP does it. The
// spec is the release's `version` and the fields of `bodhi releases create`, in Bodhi's own names;
// the path `releases/f<N>/branching.yaml` names the version too.
import { z } from "zod";
import { KOJI_TAG_PATTERN } from "../artifact.js";
import { repoPath } from "../paths.js";
import { wellFormedString } from "../text.js";
import { branchNameSchema, proposedDocumentSchema, renderProposedYaml } from "./envelope.js";

/** A Fedora release number as the SOP writes it (`44`); a person may write it as a number or a string. */
export const RELEASE_NUMBER_PATTERN = /^[1-9][0-9]{0,3}$/;

/** Bodhi's release states (bodhi.server.models.ReleaseState). */
export const bodhiReleaseStates = ["disabled", "pending", "frozen", "current", "archived"] as const;

const tag = () => wellFormedString().regex(KOJI_TAG_PATTERN, "must be a koji tag name like f44-updates-candidate");
const oneLine = (max: number) =>
  wellFormedString()
    .min(1)
    .max(max)
    .refine((v) => !/[\x00-\x1f\x7f]/.test(v), "must be one line of text (no line breaks or control characters)");

/** A release number given as a number or a digit string (YAML reads `44` as a number). */
export const releaseNumberSchema = () =>
  z.union([z.number().int().min(1).max(9999), wellFormedString().regex(RELEASE_NUMBER_PATTERN, "must be a release number like 44")]);

export const massBranchSpecSchema = z.strictObject({
  version: releaseNumberSchema(),
  // Bodhi's names for the release (`bodhi releases create --name F44 --long-name "Fedora 44" ...`).
  name: wellFormedString().regex(/^[A-Z][A-Za-z0-9-]{0,31}$/, "must be a Bodhi release name like F44"),
  long_name: oneLine(100),
  id_prefix: wellFormedString().regex(/^[A-Z][A-Z0-9-]{0,31}$/, "must be an update id prefix like FEDORA"),
  branch: branchNameSchema(),
  dist_tag: tag(),
  stable_tag: tag(),
  testing_tag: tag(),
  candidate_tag: tag(),
  pending_stable_tag: tag(),
  pending_testing_tag: tag(),
  pending_signing_tag: tag(),
  override_tag: tag(),
  state: z.enum(bodhiReleaseStates).default("pending"),
  create_automatic_updates: z.boolean().default(false),
}).superRefine((spec, ctx) => {
  for (const [field, message] of massBranchMisfits(spec)) ctx.addIssue({ code: "custom", path: [field], message });
});

export const massBranchSchema = proposedDocumentSchema("MassBranch", massBranchSpecSchema);
export type MassBranchDocument = z.output<typeof massBranchSchema>;
export type MassBranchSpec = MassBranchDocument["spec"];

/** `releases/f<version>/branching.yaml`. */
export function massBranchPath(spec: { version: number | string }): string {
  return repoPath("releases", `f${String(spec.version)}`, "branching") + ".yaml";
}

/** The release number `releases/f<N>/branching.yaml` names; undefined for any other path. */
export function massBranchVersionOf(path: string): string | undefined {
  return /^releases\/f([1-9][0-9]{0,3})\/branching\.yaml$/.exec(path)?.[1];
}

/**
 * What must agree inside a MassBranch besides the path: the branch and the dist tag are the
 * release's (`f44`), as every Fedora release's are. Problems as [field, message].
 */
export function massBranchMisfits(spec: { version: number | string; branch: string; dist_tag: string }): [string, string][] {
  const f = `f${String(spec.version)}`;
  const out: [string, string][] = [];
  // A version that is no release number is refused on its own; nothing is compared with it.
  if (!RELEASE_NUMBER_PATTERN.test(String(spec.version))) return out;
  if (spec.branch !== f) out.push(["branch", `must be ${f}, the branch of version ${String(spec.version)}`]);
  if (spec.dist_tag !== f) out.push(["dist_tag", `must be ${f}, the dist tag of version ${String(spec.version)}`]);
  return out;
}

export function buildMassBranch(spec: MassBranchSpec): MassBranchDocument {
  return { apiVersion: "relengd/v1", kind: "MassBranch", spec };
}

export function renderMassBranch(doc: MassBranchDocument): string {
  return renderProposedYaml(doc);
}
