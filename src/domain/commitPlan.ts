// The commit plan: which commits a batch of releases becomes on a given head. Pure: the writer
// renders, reads the documents the head has, plans, and only then touches git.
import type { Artifact } from "./artifact.js";
import { sameRequest } from "./documents/index.js";
import type { Environment } from "./environment.js";
import { UnsafePathError } from "./paths.js";
import { downgradeReason, renderRelease, type RenderedRelease, type ReleaseSpec } from "./release.js";
import { renderBulkCommitMessage, type BulkCommitInfo } from "./commitMessages/bulk.js";

/** A queued release as the plan needs it. */
export interface ReleaseToWrite {
  spec: ReleaseSpec;
  /** Part of a mass rebuild: shares one commit with the bulk releases of the same trigger next to it. */
  bulk: boolean;
  /** A person chose this build (a rollback, a release forced with a reason): never refused as a downgrade. */
  explicit: boolean;
}

export interface RenderedWrite {
  release: ReleaseToWrite;
  out: RenderedRelease;
}

export interface Rendering {
  rendered: RenderedWrite[];
  /** Releases whose document cannot be rendered, with why: they are blocked. */
  unrenderable: { id: string; reason: string }[];
}

/**
 * Each release's document. A release whose environment is gone is left out (neither rendered
 * nor refused: the write-time gate has blocked it already, or blocks it next batch).
 */
export function renderReleases(items: readonly { release: ReleaseToWrite; artifact: Artifact }[], environments: ReadonlyMap<string, Environment>): Rendering {
  const out: Rendering = { rendered: [], unrenderable: [] };
  for (const { release, artifact } of items) {
    const env = environments.get(release.spec.environment);
    if (!env) continue;
    try {
      out.rendered.push({ release, out: renderRelease({ ...release.spec, artifactId: artifact.id, environment: env.name }, artifact, env) });
    } catch (err) {
      out.unrenderable.push({ id: release.spec.id, reason: err instanceof UnsafePathError ? err.message : `cannot render: ${(err as Error).message}` });
    }
  }
  return out;
}

export interface PlannedCommit {
  files: { path: string; content: string }[];
  message: string;
}

export interface CommitPlan {
  commits: PlannedCommit[];
  /**
   * Per release written: the index in `commits` of the commit that has its document, or null
   * when the head already says the same (same spec, same artifact; only the release id would
   * differ): such a release makes no commit and is recorded with the head.
   */
  releases: { id: string; commit: number | null }[];
  /** Releases that would put an older build in place of the document's: blocked, with why. */
  downgrades: { id: string; reason: string }[];
}

export interface PlanOptions {
  /**
   * The writer is behind (a backlog): releases a policy made, next to each other with the same
   * trigger, share one commit as bulk releases do. Every commit rewrites the tree of the
   * directory it touches, whose size is the number of packages in the tag (25,000 in Rawhide):
   * one commit per release cannot keep up with a flood (30,000 such commits take plain `git
   * fast-import` 3 minutes), so a backlog is caught up in commits per policy instead. Releases a
   * person made (ad hoc, rollbacks, forced) keep a commit of their own.
   */
  coalesce?: boolean;
}

/** A release that may share a commit when the writer has a backlog: one a policy made, not one a person chose. */
function coalescable(release: ReleaseToWrite): boolean {
  return !release.explicit && release.spec.trigger.startsWith("policy/");
}

/**
 * One commit per release, in order; bulk releases (mass rebuilds) queued next to each other with
 * the same trigger share one commit, whose message lists every release, and so do a policy's
 * releases when `options.coalesce` says the writer has a backlog. `current` is what the head has
 * at each rendered path (absent: no such file).
 */
export function planCommits(rendered: readonly RenderedWrite[], current: ReadonlyMap<string, string | undefined>, options: PlanOptions = {}): CommitPlan {
  interface Draft {
    files: Map<string, string>;
    /** The first release's own message: the commit's when it carries that release alone and no bulk release. */
    message: string;
    bulk?: BulkCommitInfo;
    /** Holds a release that asked for bulk (a mass rebuild): a bulk message even when alone. */
    declaredBulk: boolean;
  }
  const documents = new Map(current);
  const drafts: Draft[] = [];
  const plan: CommitPlan = { commits: [], releases: [], downgrades: [] };
  // The last draft that wrote each path: a later release saying the same is in that commit.
  const lastWriter = new Map<string, number>();
  for (const { release, out } of rendered) {
    const id = release.spec.id;
    if (sameRequest(documents.get(out.path), out.document)) {
      plan.releases.push({ id, commit: lastWriter.get(out.path) ?? null });
      continue;
    }
    // The document holds a newer build than this release would put there.
    const downgrade = release.explicit ? undefined : downgradeReason(documents.get(out.path), out.document);
    if (downgrade) {
      plan.downgrades.push({ id, reason: downgrade });
      continue;
    }
    documents.set(out.path, out.content);
    const open = drafts.at(-1);
    const entry = { releaseId: id, artifactId: release.spec.artifactId, environment: release.spec.environment, nvrs: out.nvrs };
    const shared = release.bulk || (options.coalesce === true && coalescable(release));
    if (shared && open?.bulk && open.bulk.trigger === release.spec.trigger) {
      open.files.set(out.path, out.content);
      open.bulk.releases.push(entry);
      open.declaredBulk ||= release.bulk;
    } else {
      drafts.push({
        files: new Map([[out.path, out.content]]),
        message: out.commitMessage,
        ...(shared ? { bulk: { trigger: release.spec.trigger, releases: [entry] } } : {}),
        declaredBulk: release.bulk,
      });
    }
    lastWriter.set(out.path, drafts.length - 1);
    plan.releases.push({ id, commit: drafts.length - 1 });
  }
  plan.commits = drafts.map((d) => ({
    files: [...d.files].map(([path, content]) => ({ path, content })),
    message: d.bulk && (d.declaredBulk || d.bulk.releases.length > 1) ? renderBulkCommitMessage(d.bulk) : d.message,
  }));
  return plan;
}

/**
 * The commit each release is recorded with, once the plan's commits are made on `head` as
 * `shas` (in plan order): its own commit, or the head for a release the head already had.
 */
export function assignCommits(plan: CommitPlan, head: string | null, shas: readonly string[]): { id: string; commitSha: string }[] {
  const tip = shas.at(-1) ?? head;
  return plan.releases.map((r) => ({ id: r.id, commitSha: (r.commit === null ? head : shas[r.commit]) ?? tip ?? "" }));
}
