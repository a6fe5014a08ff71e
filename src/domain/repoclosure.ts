// Repoclosure before a compose: what to check (Pungi's own options and meaning), and what
// `dnf repoclosure` said about it (dnf 4 and dnf 5 print it differently).
import { createHash } from "node:crypto";
import { z } from "zod";
import { wellFormedString } from "./text.js";
import { KOJI_TAG_PATTERN } from "./artifact.js";

/** Pungi's `repoclosure_strictness`: `lenient` only reports, `fatal` stops the compose. */
export const repoclosureStrictnesses = ["off", "lenient", "fatal"] as const;
export type RepoclosureStrictness = (typeof repoclosureStrictnesses)[number];

/** A dnf repository id: dnf takes it on the command line, and it names the repo in the report. */
export const REPO_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** The architectures RPM knows and Fedora builds for (`noarch` is always checked with them). */
export const REPOCLOSURE_ARCHES = ["x86_64", "aarch64", "ppc64le", "s390x", "i686", "armhfp", "riscv64", "noarch", "src"] as const;

const repoUrl = wellFormedString()
  .min(1)
  .max(1024)
  // dnf reads file://, http:// and https:// base URLs. `$arch` and `$basearch` are relengd's to
  // substitute (one run per arch); anything else with a comma would split --repofrompath.
  .refine((u) => /^(file|https?):\/\/[^\s,]+$/.test(u), "must be a file://, http:// or https:// URL without spaces or commas");

export const repoRefSchema = z.strictObject({
  id: wellFormedString().regex(REPO_ID_PATTERN, "must be a repo id: letters, digits and ._-"),
  url: repoUrl,
});
export type RepoRef = z.output<typeof repoRefSchema>;

/** What is checked, without how strictly: shared by the gate and the broken-dependency report. */
export const repoclosureTargetShape = {
  arches: z.array(z.enum(REPOCLOSURE_ARCHES).refine((a) => a !== "noarch" && a !== "src", "noarch is checked with every arch; name the arches")).min(1).max(16),
  repos: z.array(repoRefSchema).min(1).max(50),
  lookaside: z.array(repoRefSchema).max(50).default([]),
  /** The repos whose packages must resolve; omitted: every one of `repos` (lookaside only provides). */
  check: z.array(wellFormedString().regex(REPO_ID_PATTERN, "must be a repo id")).min(1).max(50).optional(),
  /**
   * The Koji tag the repos are made from, whose observed history names who to blame; omitted: read
   * from a Koji repo URL (`…/repos/<tag>/latest/…`), else no blame.
   */
  kojiTag: wellFormedString().regex(KOJI_TAG_PATTERN, "must be a koji tag").optional(),
};

function targetProblems(t: { repos: RepoRef[]; lookaside: RepoRef[]; check?: string[] | undefined; arches: string[] }, ctx: z.RefinementCtx): void {
  const ids = new Set<string>();
  const all = [...t.repos.map((r, i) => ["repos", i, r] as const), ...t.lookaside.map((r, i) => ["lookaside", i, r] as const)];
  for (const [list, i, r] of all) {
    if (ids.has(r.id)) ctx.addIssue({ code: "custom", message: `repo id ${r.id} is named twice`, path: [list, i, "id"] });
    ids.add(r.id);
  }
  const own = new Set(t.repos.map((r) => r.id));
  t.check?.forEach((id, i) => {
    if (!own.has(id)) ctx.addIssue({ code: "custom", message: `${id} is not one of repos`, path: ["check", i] });
  });
  if (new Set(t.arches).size !== t.arches.length) ctx.addIssue({ code: "custom", message: "an arch is named twice", path: ["arches"] });
}

export const repoclosureTargetSchema = z.strictObject(repoclosureTargetShape).superRefine(targetProblems);
export type RepoclosureTarget = z.output<typeof repoclosureTargetSchema>;

/** `preflight.repoclosure` of a ComposeRequest environment, or of an ad-hoc release's body. */
export const repoclosurePreflightSchema = z.strictObject({ strictness: z.enum(repoclosureStrictnesses), ...repoclosureTargetShape }).superRefine(targetProblems);
export type RepoclosurePreflight = z.output<typeof repoclosurePreflightSchema>;

/** The repos whose packages are checked (`check`, else all of `repos`). */
export function checkedRepoIds(t: RepoclosureTarget): string[] {
  return t.check ?? t.repos.map((r) => r.id);
}

/**
 * One key per set of repositories checked the same way: runs are shared by key (a second request
 * waits for the first one's result). Order of arches and of `check` does not matter; order of
 * repos does not either (dnf merges them).
 */
export function repoSetKey(t: RepoclosureTarget): string {
  const canonical = {
    arches: [...t.arches].sort(),
    repos: [...t.repos].sort((a, b) => a.id.localeCompare(b.id)).map((r) => [r.id, r.url]),
    lookaside: [...t.lookaside].sort((a, b) => a.id.localeCompare(b.id)).map((r) => [r.id, r.url]),
    check: [...checkedRepoIds(t)].sort(),
  };
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex").slice(0, 32);
}

/** The Koji tag whose history blames broken packages: `kojiTag`, else the tag in a Koji repo URL. */
export function blameTagOf(t: RepoclosureTarget): string | undefined {
  if (t.kojiTag) return t.kojiTag;
  for (const r of t.repos) {
    const m = /\/repos\/([^/]+)\/(?:latest|\d+)\//.exec(r.url);
    if (m?.[1] && KOJI_TAG_PATTERN.test(m[1])) return m[1];
  }
  return undefined;
}

/** A repo's URL for one arch: Koji's and Pungi's URLs carry `$arch` (or dnf's `$basearch`). */
export function repoUrlForArch(url: string, arch: string): string {
  return url.replace(/\$(arch|basearch)\b|\$\{(arch|basearch)\}/g, arch);
}

/** One package dnf could not close, as dnf printed it. */
export interface UnresolvedPackage {
  /** `alpha-1.0-1.fc45.noarch` (dnf 4 and 5 print name-[epoch:]version-release.arch). */
  nevra: string;
  repo: string;
  /** dnf's own strings: `libbeta >= 2`, `/usr/bin/nothere`, `(delta or gamma)`. */
  unresolved: string[];
}

export interface RepoclosureOutput {
  packages: UnresolvedPackage[];
  /** dnf 5 (and dnf 4's newer plugin) end with the totals; absent in the older dnf 4 form. */
  totals?: { dependencies: number; packages: number };
}

// `package: NEVRA from REPO`, then `  unresolved deps:` (dnf 4) or `  unresolved deps (N):` (dnf
// 5 and dnf-plugins-core 4.3+), then one dependency per line, indented four spaces.
const PACKAGE_LINE = /^package: (\S+) from (\S+)\s*$/;
const DEPS_HEADER = /^\s+unresolved deps(?: \((\d+)\))?:\s*$/;
const TOTALS = /Repoclosure ended with unresolved dependencies \((\d+)\) across (\d+) packages?\./;

/**
 * Reads what `dnf repoclosure` wrote (stdout, with stderr appended: dnf 5 puts its final error
 * there). Lines that are neither package blocks nor totals (progress meters, "Added repo") are
 * skipped. A package block whose header announces more dependencies than it lists is still taken
 * as listed.
 */
export function parseRepoclosureOutput(text: string): RepoclosureOutput {
  const packages: UnresolvedPackage[] = [];
  let current: UnresolvedPackage | undefined;
  let inDeps = false;
  let totals: RepoclosureOutput["totals"];
  for (const raw of text.split(/\r?\n/)) {
    // trimEnd, not /\s+$/: that regex backtracks quadratically over a long run of spaces.
    const line = raw.trimEnd();
    const pkg = PACKAGE_LINE.exec(line);
    if (pkg) {
      current = { nevra: pkg[1] as string, repo: pkg[2] as string, unresolved: [] };
      packages.push(current);
      inDeps = false;
      continue;
    }
    if (current && DEPS_HEADER.test(line)) {
      inDeps = true;
      continue;
    }
    const total = TOTALS.exec(line);
    if (total) {
      totals = { dependencies: Number(total[1]), packages: Number(total[2]) };
      current = undefined;
      inDeps = false;
      continue;
    }
    if (current && inDeps && /^\s{2,}\S/.test(line) && !DEPS_HEADER.test(line)) {
      current.unresolved.push(line.trim());
      continue;
    }
    // Anything else ends a block (dnf's progress lines come before the blocks, errors after).
    current = undefined;
    inDeps = false;
  }
  return totals ? { packages, totals } : { packages };
}
