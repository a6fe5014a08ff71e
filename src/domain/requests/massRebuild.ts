// MassRebuild: a Fedora mass rebuild, one entry of `MASSREBUILDS` in releng's
// scripts/massrebuildsinfo.py in its own key names; the path `rebuilds/f<N>.yaml` is the entry's
// key (`"f40": {...}`).
import { z } from "zod";
import { KOJI_TAG_PATTERN, PACKAGE_PATTERN } from "../artifact.js";
import { repoPath } from "../paths.js";
import { wellFormedString } from "../text.js";
import { proposedDocumentSchema, renderProposedYaml } from "./envelope.js";
import { RELEASE_NUMBER_PATTERN } from "./massBranch.js";

/** massrebuildsinfo.py writes the epoch as Python's str(datetime): `2023-07-19 10:30:00.000000`. */
export const REBUILD_EPOCH_PATTERN = /^([0-9]{4})-([0-9]{2})-([0-9]{2}) ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?$/;
/** The module_* epochs are ISO 8601 in UTC: `2020-01-28T03:30:00Z`. */
export const MODULE_EPOCH_PATTERN = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$/;

export const MAX_PKG_SKIP_LIST = 10_000;
export const MAX_TARGETS = 100;

/** Whether the date part of a matched epoch exists (2023-02-30 does not). */
function realDay(m: RegExpExecArray | null): boolean {
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

const epoch = (pattern: RegExp, example: string) =>
  wellFormedString()
    .regex(pattern, { message: `must be a time like ${example}`, abort: true })
    .refine((v) => realDay(pattern.exec(v)), "must be on a day that exists");
const tag = (example: string) => wellFormedString().regex(KOJI_TAG_PATTERN, `must be a koji tag or target name like ${example}`);
/** Bugzilla bug ids are positive 32-bit integers; new entries write them as strings, old ones as integers. */
const bugId = () => z.union([z.number().int().min(1).max(2_147_483_647), wellFormedString().regex(/^[1-9][0-9]{0,9}$/, "must be a bug number like 2168842")]);
const distinct = <T extends z.ZodType<string>>(item: T, max: number, what: string) =>
  z
    .array(item)
    .max(max)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((p, i) => {
        if (seen.has(p)) ctx.addIssue({ code: "custom", message: `names ${what} ${p} a second time`, path: [i] });
        seen.add(p);
      });
    });

export const massRebuildSpecSchema = z.strictObject({
  /** Builds after this time count as rebuilt (mass-rebuild.py and find_failures.py compare with it). */
  epoch: epoch(REBUILD_EPOCH_PATTERN, "2023-07-19 10:30:00.000000"),
  buildtag: tag("f39-rebuild"),
  /** The targets whose builds count (`f39-candidate`, `rawhide`, `f39`). */
  targets: distinct(tag("f39-candidate"), MAX_TARGETS, "target").min(1),
  target: tag("f39-rebuild"),
  desttag: tag("f39"),
  product: wellFormedString().regex(/^[A-Za-z][A-Za-z0-9 ._-]{0,63}$/, "must be a product name like Fedora"),
  /** The Bugzilla version: the release number, or `rawhide` while it is rawhide. */
  version: wellFormedString().regex(/^([1-9][0-9]{0,3}|rawhide)$/, "must be a release number like 39, or rawhide"),
  rawhide_version: wellFormedString().regex(RELEASE_NUMBER_PATTERN, "must be a release number like 39").optional(),
  tracking_bug: bugId(),
  wikipage: wellFormedString().max(2000).regex(/^https:\/\/[^\s]+$/, "must be an https URL"),
  pkg_skip_list: distinct(wellFormedString().regex(PACKAGE_PATTERN, "must be a source package name"), MAX_PKG_SKIP_LIST, "package").default([]),
  // Module rebuilds of the modularity years (f32–f38 entries).
  module_mass_rebuild_epoch: epoch(MODULE_EPOCH_PATTERN, "2020-01-28T03:30:00Z").optional(),
  module_mass_branching_epoch: epoch(MODULE_EPOCH_PATTERN, "2020-02-11T23:30:00Z").optional(),
  module_mass_rebuild_platform: tag("f32").optional(),
  module_mass_branching_platform: tag("f33").optional(),
});

export const massRebuildSchema = proposedDocumentSchema("MassRebuild", massRebuildSpecSchema);
export type MassRebuildDocument = z.output<typeof massRebuildSchema>;
export type MassRebuildSpec = MassRebuildDocument["spec"];

/** The release a rebuild is of: the number of its desttag (`f39` → 39), as massrebuildsinfo's key names it. */
export function massRebuildRelease(spec: { desttag: string }): string | undefined {
  return /^f([1-9][0-9]{0,3})$/.exec(spec.desttag)?.[1];
}

/** `rebuilds/f<N>.yaml`, N the release of the desttag; undefined when the desttag names no Fedora release. */
export function massRebuildPath(spec: { desttag: string }): string | undefined {
  const n = massRebuildRelease(spec);
  return n === undefined ? undefined : repoPath("rebuilds", `f${n}`) + ".yaml";
}

export function buildMassRebuild(spec: MassRebuildSpec): MassRebuildDocument {
  return { apiVersion: "relengd/v1", kind: "MassRebuild", spec };
}

export function renderMassRebuild(doc: MassRebuildDocument): string {
  return renderProposedYaml(doc);
}
