// SideTag: a Koji side tag to build a set of packages in, as `koji add-sidetag` makes one.
import { z } from "zod";
import { KOJI_TAG_PATTERN, PACKAGE_PATTERN } from "../artifact.js";
import { isSafeSegment, repoPath, UnsafePathError } from "../paths.js";
import { wellFormedString } from "../text.js";
import { proposedDocumentSchema, renderProposedYaml } from "./envelope.js";

/**
 * Koji appends `-<suffix>` to the side tag's name, and a suffix must be one the hub's
 * `allowed_suffixes` lists (plugins/hub/sidetag_hub.py); here only the characters of a Koji tag name.
 */
export const SIDE_TAG_SUFFIX_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$/;

/** A Fedora account (FAS) user name as a path segment: lowercase, as FreeIPA stores it. */
export const OWNER_PATTERN = /^[a-z0-9_][a-z0-9_.-]{0,63}$/;

export const MAX_SIDE_TAG_PACKAGES = 500;

export const sideTagSpecSchema = z.strictObject({
  base_tag: wellFormedString().regex(KOJI_TAG_PATTERN, "must be a koji tag name like f44-build"),
  debuginfo: z.boolean().default(false),
  suffix: wellFormedString().regex(SIDE_TAG_SUFFIX_PATTERN, "must be a koji tag suffix: letters, digits and _.+-").optional(),
  packages: z
    .array(wellFormedString().regex(PACKAGE_PATTERN, "must be a source package name"))
    .min(1)
    .max(MAX_SIDE_TAG_PACKAGES)
    .superRefine((packages, ctx) => {
      const seen = new Set<string>();
      packages.forEach((p, i) => {
        if (seen.has(p)) ctx.addIssue({ code: "custom", message: `names ${p} a second time`, path: [i] });
        seen.add(p);
      });
    }),
});

export const sideTagSchema = proposedDocumentSchema("SideTag", sideTagSpecSchema);
export type SideTagDocument = z.output<typeof sideTagSchema>;
export type SideTagSpec = SideTagDocument["spec"];

/**
 * Who asks for a side tag and the name they give it: the path, not the spec, says it
 * (`koji/sidetags/<owner>/<label>.yaml`). Koji names the tag itself (`{basetag}-side-{tag_id}`),
 * which is status kept in the store, never in the file.
 */
export interface SideTagPlace {
  owner: string;
  label: string;
}

export function isSideTagOwner(owner: string): boolean {
  return OWNER_PATTERN.test(owner) && isSafeSegment(owner);
}

/** The label is the file name a person chooses (`qt6-rebase`): any safe path segment. */
export function sideTagPath(place: SideTagPlace): string {
  if (!isSideTagOwner(place.owner)) throw new UnsafePathError(`side tag owner ${JSON.stringify(place.owner)} is not a user name (lowercase letters, digits and _.-)`);
  return repoPath("koji", "sidetags", place.owner, place.label) + ".yaml";
}

/** The owner and label a path under koji/sidetags/ names; undefined for any other path. */
export function sideTagPlaceOf(path: string): SideTagPlace | undefined {
  const m = /^koji\/sidetags\/([^/]+)\/([^/]+)\.yaml$/.exec(path);
  if (!m?.[1] || !m[2]) return undefined;
  const place = { owner: m[1], label: m[2] };
  return isSideTagOwner(place.owner) && isSafeSegment(place.label) ? place : undefined;
}

export function buildSideTag(spec: SideTagSpec): SideTagDocument {
  return { apiVersion: "relengd/v1", kind: "SideTag", spec };
}

export function renderSideTag(doc: SideTagDocument): string {
  return renderProposedYaml(doc);
}
