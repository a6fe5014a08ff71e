// What an artifact's koji-builds must say to be stored and released: whose builds they are, from
// which side tag, for which release. Pure; the API, the release use cases, policies and the
// writer all ask this one module.
import type { Artifact, FieldIssue } from "./artifact.js";
import { parseNvr } from "./nvr.js";
import { mayTouchPackage, type Principal } from "./token.js";

/**
 * The rules, by the `code` a refusal carries:
 * - `build-of-other-package`: an artifact with one koji-build is that build's package; a
 *   Bodhi update and a Koji tag document are keyed by the build's name, so `package` (which the
 *   token scopes, holds and freezes look at) must not say something else;
 * - `side-tag-required`: several koji-builds are one side-tag update (Bodhi's `from_tag`): every
 *   build names the same side tag;
 * - `dist-tag-mismatch`: the dist tag in a build's release (`fc44`, `el9`, `eln150`) is the one
 *   Fedora's build system gives builds of the artifact's release.
 */
export const artifactRules = ["build-of-other-package", "side-tag-required", "dist-tag-mismatch"] as const;
export type ArtifactRule = (typeof artifactRules)[number];

export interface RuleViolation extends FieldIssue {
  rule: ArtifactRule;
}

export interface ArtifactRuleOptions {
  /** The Fedora version that is Rawhide now (RELENGD_RAWHIDE_VERSION): `rawhide` takes fcN with N at or above it. */
  rawhideVersion: number;
}

/** A Fedora or EPEL dist tag as it appears in a build's release field. */
export type DistTag =
  | { family: "fc"; version: number }
  | { family: "eln" }
  | { family: "el"; major: number; minor?: number; next: boolean };

/**
 * The dist tag of an rpm release (`1.fc44`, `0.rc1.20231201git.fc45`, `2.el9_3`, `1.el9.next`,
 * `3.eln150`, `1.fc31.pr.4229607…`): the first dot-separated word that is one, with EPEL Next's
 * `.next` after it. Undefined for a release without one (shim's `3`, a module's `module_f34+…`).
 */
export function distTagOf(release: string): DistTag | undefined {
  const words = release.split(".");
  for (const [i, word] of words.entries()) {
    const fc = /^fc([0-9]{1,3})$/.exec(word);
    if (fc) return { family: "fc", version: Number(fc[1]) };
    if (/^eln[0-9]{1,4}$/.test(word)) return { family: "eln" };
    const el = /^el([0-9]{1,2})(?:_([0-9]{1,2}))?$/.exec(word);
    if (el) {
      const next = words[i + 1] === "next";
      return el[2] === undefined ? { family: "el", major: Number(el[1]), next } : { family: "el", major: Number(el[1]), minor: Number(el[2]), next };
    }
  }
  return undefined;
}

export function renderDistTag(tag: DistTag): string {
  switch (tag.family) {
    case "fc":
      return `fc${tag.version}`;
    case "eln":
      return "elnN";
    case "el":
      return `el${tag.major}${tag.minor === undefined ? "" : `_${tag.minor}`}${tag.next ? ".next" : ""}`;
  }
}

/**
 * What dist tag builds of `release` carry, as a test and its description; undefined for a
 * release name outside Fedora's and EPEL's (a downstream's own), which no dist tag rule covers.
 */
function distTagRule(release: string, options: ArtifactRuleOptions): { fits: (tag: DistTag) => boolean; wants: string } | undefined {
  if (release === "rawhide") {
    return { fits: (t) => t.family === "fc" && t.version >= options.rawhideVersion, wants: `fcN with N ≥ ${options.rawhideVersion} (the Rawhide version)` };
  }
  if (release === "eln") return { fits: (t) => t.family === "eln", wants: "elnN" };
  const f = /^f([0-9]{1,3})$/.exec(release);
  if (f) {
    const version = Number(f[1]);
    return { fits: (t) => t.family === "fc" && t.version === version, wants: `fc${version}` };
  }
  const epel = /^epel([0-9]{1,2})(?:\.([0-9]{1,2}))?(-next)?$/.exec(release);
  if (epel) {
    const major = Number(epel[1]);
    const minor = epel[2] === undefined ? undefined : Number(epel[2]);
    const next = epel[3] !== undefined;
    // EPEL 10 builds carry the minor version (el10_1); the epel10 branch builds for whichever is current.
    return {
      fits: (t) => t.family === "el" && t.major === major && t.next === next && (minor === undefined || t.minor === minor),
      wants: `el${major}${minor === undefined ? "" : `_${minor}`}${next ? ".next" : ""}`,
    };
  }
  return undefined;
}

/** Every rule `artifact` breaks, each naming the field (`/items/N/nvr`, `/items/N/sideTag`). */
export function artifactRuleViolations(artifact: Pick<Artifact, "package" | "release" | "items">, options: ArtifactRuleOptions): RuleViolation[] {
  const out: RuleViolation[] = [];
  const builds = artifact.items.flatMap((item, index) => (item.kind === "koji-build" ? [{ item, index }] : []));
  const only = builds.length === 1 ? builds[0] : undefined;
  if (only) {
    const parsed = parseNvr(only.item.nvr);
    if (parsed.ok && parsed.nvr.name !== artifact.package) {
      out.push({
        rule: "build-of-other-package",
        path: `/items/${only.index}/nvr`,
        message: `is a build of ${parsed.nvr.name}, not of the artifact's package ${artifact.package} (/package); an artifact of one build is that build's package`,
      });
    }
  } else if (builds.length > 1) {
    const named = builds.find((b) => b.item.sideTag !== undefined);
    for (const { item, index } of builds) {
      if (item.sideTag === undefined) {
        out.push({ rule: "side-tag-required", path: `/items/${index}/sideTag`, message: `is missing: an artifact of ${builds.length} koji-builds is a side-tag update, and every build names its side tag` });
      } else if (named && item.sideTag !== named.item.sideTag) {
        out.push({ rule: "side-tag-required", path: `/items/${index}/sideTag`, message: `is ${item.sideTag}, but /items/${named.index}/sideTag is ${named.item.sideTag}; one update comes from one side tag` });
      }
    }
  }
  const rule = distTagRule(artifact.release, options);
  if (rule) {
    for (const { item, index } of builds) {
      const parsed = parseNvr(item.nvr);
      const tag = parsed.ok ? distTagOf(parsed.nvr.release) : undefined;
      // A build without a dist tag (shim, some -release packages) has nothing to check.
      if (!tag || rule.fits(tag)) continue;
      out.push({
        rule: "dist-tag-mismatch",
        path: `/items/${index}/nvr`,
        message: `has dist tag ${renderDistTag(tag)}, which does not fit release ${artifact.release} (/release), whose builds carry ${rule.wants}`,
      });
    }
  }
  return out;
}

/** The koji-builds of packages outside the token's package scope, each naming its `/items/N/nvr`. */
export function buildsOutsideScope(principal: Principal, artifact: Pick<Artifact, "items">): FieldIssue[] {
  if (principal.packages === undefined) return [];
  const out: FieldIssue[] = [];
  artifact.items.forEach((item, index) => {
    if (item.kind !== "koji-build") return;
    const parsed = parseNvr(item.nvr);
    if (parsed.ok && !mayTouchPackage(principal, parsed.nvr.name)) {
      out.push({ path: `/items/${index}/nvr`, message: `is a build of ${parsed.nvr.name}, outside the token's package scope ${principal.packages?.join(", ")}` });
    }
  });
  return out;
}

/** One line for a refusal, a blocked release or the CLI check: the rule, the field, the reason. */
export function describeViolations(artifactId: string, violations: readonly RuleViolation[]): string {
  const first = violations[0];
  if (!first) return `artifact ${artifactId} follows the ingest rules`;
  const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : "";
  return `artifact ${artifactId} breaks rule ${first.rule}: ${first.path} ${first.message}${more}`;
}

/** Why `artifact` may not be released (the first rule it breaks, in words), or undefined. */
export function ruleRefusal(artifact: Pick<Artifact, "id" | "package" | "release" | "items">, options: ArtifactRuleOptions): string | undefined {
  const violations = artifactRuleViolations(artifact, options);
  return violations.length > 0 ? describeViolations(artifact.id, violations) : undefined;
}
