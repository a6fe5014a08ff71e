// Use case: describe a release — the states it went through and the document and commit it
// becomes — from its record, the decision that queued it, its hold, its artifact and the
// environment as declared now. Read-only.
import { RELEASE_STATUS, renderRelease, toReleaseSpec, type RenderedRelease } from "../domain/release.js";
import { renderBulkCommitMessage } from "../domain/commitMessages/bulk.js";
import { parseReleaseCommitMessage, releaseTrailers } from "../domain/commitMessages/release.js";
import type { EnvironmentSet } from "../domain/environmentSet.js";
import type { ArtifactRepository } from "../store/artifactRepository.js";
import type { OverviewRepository } from "../store/overviewRepository.js";
import type { HoldRecord, ReleaseRecord, ReleaseRepository } from "../store/releaseRepository.js";

export interface DescribeReleaseDeps {
  releases: Pick<ReleaseRepository, "get" | "hold">;
  artifacts: Pick<ArtifactRepository, "getMany">;
  /** The policy decision that queued a release, if a policy did. */
  decisions: Pick<OverviewRepository, "decisionFor">;
  environments: () => EnvironmentSet;
}

export const timelineStates = [
  "decided",
  RELEASE_STATUS.checking,
  RELEASE_STATUS.queued,
  "held",
  "retrying",
  RELEASE_STATUS.committed,
  RELEASE_STATUS.pushed,
  RELEASE_STATUS.failed,
  RELEASE_STATUS.blocked,
  RELEASE_STATUS.superseded,
] as const;

export interface TimelineEntry {
  state: (typeof timelineStates)[number];
  at: string | null;
  detail: string;
}

/** The fired policy decision that queued a release. */
export interface QueuingDecision {
  policy: string;
  event: string;
  reason: string | null;
  createdAt: Date;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/**
 * A release's states, oldest first, from what its record keeps: when it was queued, the last
 * failed attempt, and when it reached its current state (the store keeps no per-state log, so a
 * pushed release shows no separate commit time).
 */
export function releaseTimeline(
  r: ReleaseRecord,
  context: { decision?: { policy: string; createdAt: Date; reason: string | null } | null; hold?: HoldRecord | null } = {},
): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  if (context.decision) {
    out.push({ state: "decided", at: iso(context.decision.createdAt), detail: `policy ${context.decision.policy} fired${context.decision.reason ? `: ${context.decision.reason}` : ""}` });
  }
  const forced = r.force ? `; forced${r.forceReason ? `: ${r.forceReason}` : ""}` : "";
  if (r.preflight) {
    // The store keeps when it entered `checking` (its creation) but not when the check ended.
    const what = `repoclosure (${r.preflight.strictness}) over ${r.preflight.repos.map((p) => p.id).join(", ")} for ${r.preflight.arches.join(", ")}`;
    out.push({ state: RELEASE_STATUS.checking, at: iso(r.createdAt), detail: `by ${r.trigger} (${r.createdBy})${forced}; ${what}${r.repoclosure ? `: ${r.repoclosure}` : ""}` });
    if (r.status !== RELEASE_STATUS.checking && r.repoclosure !== null) out.push({ state: RELEASE_STATUS.queued, at: null, detail: "passed the repoclosure gate" });
  } else {
    out.push({ state: RELEASE_STATUS.queued, at: iso(r.createdAt), detail: `by ${r.trigger} (${r.createdBy})${forced}` });
  }
  if (context.hold && context.hold.releaseId === r.id) {
    out.push({ state: "held", at: iso(context.hold.createdAt), detail: `hold on ${context.hold.environment}/${context.hold.package} placed: ${context.hold.reason}` });
  }
  switch (r.status) {
    case RELEASE_STATUS.queued:
      if (r.attempts > 0) {
        const next = r.nextAttemptAt ? `; next attempt at ${r.nextAttemptAt.toISOString()}` : "";
        out.push({ state: "retrying", at: iso(r.updatedAt), detail: `attempt ${r.attempts} failed: ${r.error ?? "no error recorded"}${next}` });
      }
      break;
    case RELEASE_STATUS.committed:
      out.push({ state: RELEASE_STATUS.committed, at: iso(r.updatedAt), detail: `commit ${r.commitSha ?? "(unknown)"} made, not pushed yet` });
      break;
    case RELEASE_STATUS.pushed:
      out.push({ state: RELEASE_STATUS.pushed, at: iso(r.pushedAt ?? r.updatedAt), detail: `commit ${r.commitSha ?? "(unknown)"} pushed to ${r.repository}/${r.branch}` });
      break;
    case RELEASE_STATUS.failed:
      out.push({ state: RELEASE_STATUS.failed, at: iso(r.updatedAt), detail: `after ${r.attempts} attempt${r.attempts === 1 ? "" : "s"}: ${r.error ?? "no error recorded"}` });
      break;
    case RELEASE_STATUS.blocked:
      out.push({ state: RELEASE_STATUS.blocked, at: iso(r.updatedAt), detail: r.reason ?? "no reason recorded" });
      break;
    case RELEASE_STATUS.superseded:
      out.push({ state: RELEASE_STATUS.superseded, at: iso(r.updatedAt), detail: r.reason ?? `superseded by release ${r.supersededBy ?? "(unknown)"}` });
      break;
  }
  return out;
}

export type TimelineOutcome = { status: "found"; release: ReleaseRecord; entries: TimelineEntry[]; decision: QueuingDecision | null } | { status: "not-found" };

/** The timeline of release `id`, with the policy decision that queued it and the hold a rollback placed. */
export async function describeReleaseTimeline(deps: DescribeReleaseDeps, id: string): Promise<TimelineOutcome> {
  const release = await deps.releases.get(id);
  if (!release) return { status: "not-found" };
  const [decision, hold] = await Promise.all([deps.decisions.decisionFor(release.artifactId, release.id), deps.releases.hold(release.environment, release.package)]);
  return { status: "found", release, entries: releaseTimeline(release, { decision, hold: hold && hold.releaseId === release.id ? hold : null }), decision };
}

export interface ReleaseDocument {
  kind: string;
  path: string;
  content: string;
  commit: {
    sha: string | null;
    bulk: boolean;
    /** Null for a bulk release: its commit is shared with its batch. */
    subject: string | null;
    message: string | null;
    trailers: { name: string; value: string }[];
  };
}

export type DocumentOutcome =
  | { status: "found"; release: ReleaseRecord; document: ReleaseDocument }
  | { status: "not-found" }
  | { status: "environment-undeclared"; release: ReleaseRecord }
  | { status: "unknown-artifact"; release: ReleaseRecord }
  /** The artifact no longer qualifies for the environment (it changed since), said in words. */
  | { status: "unrenderable"; release: ReleaseRecord; reason: string };

/**
 * Release `id`'s request document and commit, rendered by the same pure function the writer
 * commits with, so what is shown is the file the writer wrote (or will).
 */
export async function describeReleaseDocument(deps: DescribeReleaseDeps, id: string): Promise<DocumentOutcome> {
  const release = await deps.releases.get(id);
  if (!release) return { status: "not-found" };
  const env = deps.environments().environments.get(release.environment);
  if (!env) return { status: "environment-undeclared", release };
  const artifact = (await deps.artifacts.getMany([release.artifactId])).get(release.artifactId);
  if (!artifact) return { status: "unknown-artifact", release };
  let rendered: RenderedRelease;
  try {
    rendered = renderRelease(toReleaseSpec(release), artifact, env);
  } catch (err) {
    return { status: "unrenderable", release, reason: err instanceof Error ? err.message : String(err) };
  }
  // A bulk release shares one commit with its batch; only its own trailer lines are known here.
  const message = release.bulk
    ? renderBulkCommitMessage({ trigger: release.trigger, releases: [{ releaseId: release.id, artifactId: release.artifactId, environment: release.environment, nvrs: rendered.nvrs }] })
    : rendered.commitMessage;
  const info = parseReleaseCommitMessage(message);
  return {
    status: "found",
    release,
    document: {
      kind: rendered.document.kind,
      path: rendered.path,
      content: rendered.content,
      commit: {
        sha: release.commitSha,
        bulk: release.bulk,
        subject: release.bulk ? null : (info?.subject ?? null),
        message: release.bulk ? null : message,
        trailers: info ? releaseTrailers(info) : [],
      },
    },
  };
}
