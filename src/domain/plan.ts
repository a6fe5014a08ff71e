// The drift plan: the Koji tag and untag operations that would make what Koji holds (as observed on the bus) what the GitOps repository asks for. Pure.
import { parseNvr, renderNvr } from "./nvr.js";

/** One KojiTag document: `<package>` in `<tag>` is `<nvr>`. */
export interface DesiredTagBuild {
  tag: string;
  package: string;
  nvr: string;
  /** The document in the GitOps repository that asks for it. */
  path: string;
}

/** A build a tag holds now, as observed on the bus (GET /api/v1/koji-tags/{tag}/observed). */
export interface ObservedTagBuild {
  tag: string;
  package: string;
  nvr: string;
  buildId: number | null;
  /** ISO time Koji tagged it; the last tagged build of a package is the tag's latest. */
  taggedAt: string;
  messageId: string;
  latest: boolean;
}

export type TagOperation = { op: "tag" | "untag"; tag: string; package: string; nvr: string; reason: string };

export interface KojiTagPlan {
  /** In order: by tag, then package; a package's untags (newest first) before its tag. */
  operations: TagOperation[];
  /** Packages whose latest build in the tag is the one asked for. */
  inSync: { tag: string; package: string; nvr: string }[];
  /**
   * Packages a planned tag holds that no document names. relengd manages only what its
   * documents name, so they get no operation.
   */
  unmanaged: { tag: string; package: string; latest: string }[];
}

/** NVRs compare without an epoch: Koji's tag messages never carry one, documents may. */
function sameBuild(a: string, b: string): boolean {
  const pa = parseNvr(a);
  const pb = parseNvr(b);
  if (!pa.ok || !pb.ok) return a === b;
  const bare = (n: typeof pa.nvr) => renderNvr({ name: n.name, version: n.version, release: n.release });
  return bare(pa.nvr) === bare(pb.nvr);
}

const key = (tag: string, pkg: string) => `${tag}\0${pkg}`;

/**
 * Koji hands out the last build tagged into a tag as its latest. For each document:
 * - the build it names is the latest: in sync;
 * - it is not in the tag: tag it (it becomes the latest);
 * - it is in the tag but builds were tagged after it: untag those, newest first (a rollback).
 * Builds tagged before the one asked for stay: they are the tag's history, not drift.
 * `tags` names the tags planned (an environment's tag may have no document yet); the tags of
 * the documents are planned in any case.
 */
export function planKojiTags(desired: readonly DesiredTagBuild[], observed: readonly ObservedTagBuild[], tags: readonly string[] = []): KojiTagPlan {
  const wanted = new Map<string, DesiredTagBuild>();
  for (const d of desired) wanted.set(key(d.tag, d.package), d);
  const held = new Map<string, ObservedTagBuild[]>();
  for (const o of observed) {
    const list = held.get(key(o.tag, o.package)) ?? [];
    list.push(o);
    held.set(key(o.tag, o.package), list);
  }
  // Stable: builds tagged at the same time keep the order they were observed in.
  for (const list of held.values()) list.sort((a, b) => Date.parse(a.taggedAt) - Date.parse(b.taggedAt));

  const plan: KojiTagPlan = { operations: [], inSync: [], unmanaged: [] };
  const byName = (a: { tag: string; package: string }, b: { tag: string; package: string }) => a.tag.localeCompare(b.tag) || a.package.localeCompare(b.package);
  for (const d of [...wanted.values()].sort(byName)) {
    const builds = held.get(key(d.tag, d.package)) ?? [];
    const at = builds.findIndex((b) => sameBuild(b.nvr, d.nvr));
    const latest = builds.at(-1);
    if (at === -1) {
      const reason = latest ? `${d.path} asks for ${d.nvr}; ${d.tag} has ${latest.nvr} as the latest ${d.package}` : `${d.path} asks for ${d.nvr}; no build of ${d.package} is observed in ${d.tag}`;
      plan.operations.push({ op: "tag", tag: d.tag, package: d.package, nvr: d.nvr, reason });
    } else if (at === builds.length - 1) {
      plan.inSync.push({ tag: d.tag, package: d.package, nvr: d.nvr });
    } else {
      for (const newer of builds.slice(at + 1).reverse()) {
        plan.operations.push({ op: "untag", tag: d.tag, package: d.package, nvr: newer.nvr, reason: `tagged after ${d.nvr}, which ${d.path} asks for` });
      }
    }
  }
  const plannedTags = new Set([...tags, ...desired.map((d) => d.tag)]);
  for (const [k, builds] of held) {
    const latest = builds.at(-1);
    if (wanted.has(k) || !latest || !plannedTags.has(latest.tag)) continue;
    plan.unmanaged.push({ tag: latest.tag, package: latest.package, latest: latest.nvr });
  }
  plan.unmanaged.sort(byName);
  return plan;
}

/** Whether nothing needs doing. */
export function isInSync(plan: KojiTagPlan): boolean {
  return plan.operations.length === 0;
}
