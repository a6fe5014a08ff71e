// Read-only summaries for the dashboard: queue depth per repository, recent outcomes, what each
// environment holds now. Every query is bounded and answered from an index of the Release table.
import type { ReleaseStatus } from "../domain/release.js";
import type { Prisma } from "./database.js";

export interface QueueDepth {
  repository: string;
  branch: string;
  queued: number;
  committed: number;
  /** The release the writer of this branch takes next (lowest seq still in its hands). */
  oldest: { id: string; package: string; environment: string; createdAt: Date; attempts: number; error: string | null; nextAttemptAt: Date | null };
}

/** Statuses a release reaches when the writer is done with it (or the store gives up). */
export const outcomeStatuses = ["pushed", "failed", "blocked", "superseded"] as const satisfies readonly ReleaseStatus[];
export type OutcomeStatus = (typeof outcomeStatuses)[number];

export interface EnvironmentEntry {
  package: string;
  /** The builds the newest pushed release carried (for a Koji tag: the one build of the package). */
  nvrs: string[];
  releaseId: string;
  artifactId: string;
  trigger: string;
  commitSha: string | null;
  pushedAt: Date | null;
}

/** A recent release with the builds its artifact carries (name and NVR, in the artifact's order). */
export interface LatestRelease {
  id: string;
  package: string;
  environment: string;
  status: string;
  trigger: string;
  reason: string | null;
  updatedAt: Date;
  builds: { name: string; nvr: string }[];
}

export interface EnvironmentStateQuery {
  environment: string;
  /** Only packages whose name starts with this. */
  packagePrefix?: string;
  /** Packages after this one (keyset pagination in the database's own name order). */
  after?: string;
  limit: number;
  /** Koji tags hold one build per package: keep only the build named like the package. */
  ownBuildOnly: boolean;
}

export class OverviewRepository {
  constructor(private readonly prisma: Prisma) {}

  /** Releases still in a writer's hands, per (repository, branch), with the one it takes next. */
  async queueDepths(): Promise<QueueDepth[]> {
    const groups = await this.prisma.release.groupBy({
      by: ["repository", "branch", "status"],
      where: { status: { in: ["queued", "committed"] } },
      _count: { _all: true },
      _min: { seq: true },
    });
    const byBranch = new Map<string, { repository: string; branch: string; queued: number; committed: number; minSeq: number }>();
    for (const g of groups) {
      const key = `${g.repository}\0${g.branch}`;
      const entry = byBranch.get(key) ?? { repository: g.repository, branch: g.branch, queued: 0, committed: 0, minSeq: Number.MAX_SAFE_INTEGER };
      if (g.status === "queued") entry.queued += g._count._all;
      else entry.committed += g._count._all;
      entry.minSeq = Math.min(entry.minSeq, g._min.seq ?? Number.MAX_SAFE_INTEGER);
      byBranch.set(key, entry);
    }
    if (byBranch.size === 0) return [];
    const oldest = await this.prisma.release.findMany({
      where: { seq: { in: [...byBranch.values()].map((b) => b.minSeq) } },
      select: { seq: true, id: true, package: true, environment: true, createdAt: true, attempts: true, error: true, nextAttemptAt: true },
    });
    const bySeq = new Map(oldest.map((r) => [r.seq, r]));
    const out: QueueDepth[] = [];
    for (const b of byBranch.values()) {
      const r = bySeq.get(b.minSeq);
      // Pushed between the two reads: the branch is counted again on the next poll.
      if (!r) continue;
      const { seq: _seq, ...rest } = r;
      out.push({ repository: b.repository, branch: b.branch, queued: b.queued, committed: b.committed, oldest: rest });
    }
    return out.sort((a, b) => a.repository.localeCompare(b.repository) || a.branch.localeCompare(b.branch));
  }

  /** How many releases reached each final status since `since` (by their last change). */
  async outcomesSince(since: Date): Promise<Record<OutcomeStatus, number>> {
    const groups = await this.prisma.release.groupBy({
      by: ["status"],
      where: { status: { in: [...outcomeStatuses] }, updatedAt: { gte: since } },
      _count: { _all: true },
    });
    const out: Record<OutcomeStatus, number> = { pushed: 0, failed: 0, blocked: 0, superseded: 0 };
    for (const g of groups) out[g.status as OutcomeStatus] = g._count._all;
    return out;
  }

  /** Releases queued or committed for one environment (its backlog). */
  async pendingIn(environment: string): Promise<number> {
    return this.prisma.release.count({ where: { environment, status: { in: ["queued", "committed"] } } });
  }

  /**
   * What an environment holds now, as relengd pushed it: per package, the newest pushed
   * release ("latest wins", rollbacks included), in package-name order, one page at a time.
   */
  async environmentState(q: EnvironmentStateQuery): Promise<{ items: EnvironmentEntry[]; hasMore: boolean }> {
    const packageFilter = {
      ...(q.after !== undefined ? { gt: q.after } : {}),
      ...(q.packagePrefix ? { startsWith: q.packagePrefix } : {}),
    };
    const groups = await this.prisma.release.groupBy({
      by: ["package"],
      where: { environment: q.environment, status: "pushed", ...(Object.keys(packageFilter).length > 0 ? { package: packageFilter } : {}) },
      _max: { seq: true },
      orderBy: { package: "asc" },
      take: q.limit + 1,
    });
    const page = groups.slice(0, q.limit);
    const seqs = page.map((g) => g._max.seq).filter((s): s is number => s !== null);
    if (seqs.length === 0) return { items: [], hasMore: false };
    const releases = await this.prisma.release.findMany({
      where: { seq: { in: seqs } },
      select: { seq: true, id: true, package: true, artifactId: true, trigger: true, commitSha: true, pushedAt: true },
    });
    const builds = await this.prisma.artifactBuild.findMany({
      where: { artifactId: { in: [...new Set(releases.map((r) => r.artifactId))] } },
      select: { artifactId: true, nvr: true, name: true },
      orderBy: { id: "asc" },
    });
    const buildsOf = new Map<string, { nvr: string; name: string }[]>();
    for (const b of builds) buildsOf.set(b.artifactId, [...(buildsOf.get(b.artifactId) ?? []), b]);
    const bySeq = new Map(releases.map((r) => [r.seq, r]));
    const items: EnvironmentEntry[] = [];
    for (const g of page) {
      const r = g._max.seq === null ? undefined : bySeq.get(g._max.seq);
      if (!r) continue;
      const all = buildsOf.get(r.artifactId) ?? [];
      items.push({
        package: r.package,
        nvrs: (q.ownBuildOnly ? all.filter((b) => b.name === r.package) : all).map((b) => b.nvr),
        releaseId: r.id,
        artifactId: r.artifactId,
        trigger: r.trigger,
        commitSha: r.commitSha,
        pushedAt: r.pushedAt,
      });
    }
    return { items, hasMore: groups.length > q.limit };
  }

  /** The newest `limit` releases (by when they were queued), each with its artifact's builds. */
  async latestReleases(limit: number): Promise<LatestRelease[]> {
    const releases = await this.prisma.release.findMany({
      orderBy: { seq: "desc" },
      take: limit,
      select: { id: true, package: true, environment: true, status: true, trigger: true, reason: true, updatedAt: true, artifactId: true },
    });
    const builds = await this.prisma.artifactBuild.findMany({
      where: { artifactId: { in: [...new Set(releases.map((r) => r.artifactId))] } },
      select: { artifactId: true, nvr: true, name: true },
      orderBy: { id: "asc" },
    });
    const buildsOf = new Map<string, { nvr: string; name: string }[]>();
    for (const b of builds) buildsOf.set(b.artifactId, [...(buildsOf.get(b.artifactId) ?? []), { name: b.name, nvr: b.nvr }]);
    return releases.map(({ artifactId, ...r }) => ({ ...r, builds: buildsOf.get(artifactId) ?? [] }));
  }

  /** The decision that queued this release, if a policy did (looked up through the artifact's index). */
  async decisionFor(artifactId: string, releaseId: string): Promise<{ policy: string; event: string; reason: string | null; createdAt: Date } | null> {
    return this.prisma.decision.findFirst({
      where: { artifactId, releaseId, fired: true },
      orderBy: { id: "asc" },
      select: { policy: true, event: true, reason: true, createdAt: true },
    });
  }

  /** The newest bus event and how many results wait for their build. */
  async busActivity(): Promise<{ last: { topic: string; status: string; receivedAt: Date } | null; waiting: number }> {
    const [last, waiting] = await Promise.all([
      this.prisma.busEvent.findFirst({ orderBy: { seq: "desc" }, select: { topic: true, status: true, receivedAt: true } }),
      this.prisma.busEvent.count({ where: { status: "waiting" } }),
    ]);
    return { last, waiting };
  }
}
