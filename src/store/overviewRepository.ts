// Read-only summaries for the dashboard: queue depth per repository, recent outcomes, what each
// environment holds now. Every query is bounded and answered from an index of the Release table.
import type { ReleaseStatus } from "../domain/release.js";
import { sql } from "kysely";
import { chunksFor, fromStamp, stamp, type Store, type Tx } from "./store.js";

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
  constructor(private readonly store: Store) {}

  /** Releases still in a writer's hands, per (repository, branch), with the one it takes next. */
  async queueDepths(): Promise<QueueDepth[]> {
    return this.store.read(async (tx) => {
      const groups = await tx
        .selectFrom("Release")
        .select((e) => ["repository", "branch", "status", e.fn.countAll<number>().as("n"), e.fn.min("seq").as("minSeq")])
        .where("status", "in", ["queued", "committed"])
        .groupBy(["repository", "branch", "status"])
        .execute();
      const byBranch = new Map<string, { repository: string; branch: string; queued: number; committed: number; minSeq: number }>();
      for (const g of groups) {
        const key = JSON.stringify([g.repository, g.branch]);
        const entry = byBranch.get(key) ?? { repository: g.repository, branch: g.branch, queued: 0, committed: 0, minSeq: Number.MAX_SAFE_INTEGER };
        if (g.status === "queued") entry.queued += g.n;
        else entry.committed += g.n;
        entry.minSeq = Math.min(entry.minSeq, g.minSeq);
        byBranch.set(key, entry);
      }
      if (byBranch.size === 0) return [];
      const bySeq = new Map<number, QueueDepth["oldest"]>();
      for (const chunk of chunksFor([...byBranch.values()].map((b) => b.minSeq), 1)) {
        const rows = await tx
          .selectFrom("Release")
          .select(["seq", "id", "package", "environment", "createdAt", "attempts", "error", "nextAttemptAt"])
          .where("seq", "in", chunk)
          .execute();
        for (const { seq, createdAt, nextAttemptAt, ...rest } of rows) {
          bySeq.set(seq, { ...rest, createdAt: fromStamp(createdAt), nextAttemptAt: nextAttemptAt === null ? null : fromStamp(nextAttemptAt) });
        }
      }
      const out: QueueDepth[] = [];
      for (const b of byBranch.values()) {
        const oldest = bySeq.get(b.minSeq);
        // Pushed between the two reads (PostgreSQL reads without one snapshot): counted again on the next poll.
        if (!oldest) continue;
        out.push({ repository: b.repository, branch: b.branch, queued: b.queued, committed: b.committed, oldest });
      }
      return out.sort((a, b) => a.repository.localeCompare(b.repository) || a.branch.localeCompare(b.branch));
    });
  }

  /** How many releases reached each final status since `since` (by their last change). */
  async outcomesSince(since: Date): Promise<Record<OutcomeStatus, number>> {
    const groups = await this.store.read((tx) =>
      tx
        .selectFrom("Release")
        .select((e) => ["status", e.fn.countAll<number>().as("n")])
        .where("status", "in", [...outcomeStatuses])
        .where("updatedAt", ">=", stamp(since))
        .groupBy("status")
        .execute(),
    );
    const out: Record<OutcomeStatus, number> = { pushed: 0, failed: 0, blocked: 0, superseded: 0 };
    for (const g of groups) out[g.status as OutcomeStatus] = g.n;
    return out;
  }

  /** Releases queued or committed for one environment (its backlog). */
  async pendingIn(environment: string): Promise<number> {
    const row = await this.store.read((tx) =>
      tx
        .selectFrom("Release")
        .select((e) => e.fn.countAll<number>().as("n"))
        .where("environment", "=", environment)
        .where("status", "in", ["queued", "committed"])
        .executeTakeFirstOrThrow(),
    );
    return row.n;
  }

  /**
   * What an environment holds now, as relengd pushed it: per package, the newest pushed
   * release ("latest wins", rollbacks included), in package-name order, one page at a time.
   */
  async environmentState(q: EnvironmentStateQuery): Promise<{ items: EnvironmentEntry[]; hasMore: boolean }> {
    return this.store.read(async (tx) => {
      const groups = await tx
        .selectFrom("Release")
        .select((e) => ["package", e.fn.max("seq").as("maxSeq")])
        .where("environment", "=", q.environment)
        .where("status", "=", "pushed")
        .$if(q.after !== undefined, (w) => w.where("package", ">", q.after as string))
        .$if(Boolean(q.packagePrefix), (w) => w.where(startsWith("package", q.packagePrefix as string)))
        .groupBy("package")
        .orderBy("package", "asc")
        .limit(q.limit + 1)
        .execute();
      const page = groups.slice(0, q.limit);
      if (page.length === 0) return { items: [], hasMore: false };
      const releases = new Map<number, { id: string; package: string; artifactId: string; trigger: string; commitSha: string | null; pushedAt: string | null }>();
      for (const chunk of chunksFor(page.map((g) => g.maxSeq), 1)) {
        const rows = await tx.selectFrom("Release").select(["seq", "id", "package", "artifactId", "trigger", "commitSha", "pushedAt"]).where("seq", "in", chunk).execute();
        for (const { seq, ...r } of rows) releases.set(seq, r);
      }
      const buildsOf = await buildsOfArtifacts(tx, [...releases.values()].map((r) => r.artifactId));
      const items: EnvironmentEntry[] = [];
      for (const g of page) {
        const r = releases.get(g.maxSeq);
        if (!r) continue;
        const all = buildsOf.get(r.artifactId) ?? [];
        items.push({
          package: r.package,
          nvrs: (q.ownBuildOnly ? all.filter((b) => b.name === r.package) : all).map((b) => b.nvr),
          releaseId: r.id,
          artifactId: r.artifactId,
          trigger: r.trigger,
          commitSha: r.commitSha,
          pushedAt: r.pushedAt === null ? null : fromStamp(r.pushedAt),
        });
      }
      return { items, hasMore: groups.length > q.limit };
    });
  }

  /** The newest `limit` releases (by when they were queued), each with its artifact's builds. */
  async latestReleases(limit: number): Promise<LatestRelease[]> {
    return this.store.read(async (tx) => {
      const releases = await tx
        .selectFrom("Release")
        .select(["id", "package", "environment", "status", "trigger", "reason", "updatedAt", "artifactId"])
        .orderBy("seq", "desc")
        .limit(limit)
        .execute();
      const buildsOf = await buildsOfArtifacts(tx, releases.map((r) => r.artifactId));
      return releases.map(({ artifactId, updatedAt, ...r }) => ({ ...r, updatedAt: fromStamp(updatedAt), builds: buildsOf.get(artifactId) ?? [] }));
    });
  }

  /** The decision that queued this release, if a policy did (looked up through the artifact's index). */
  async decisionFor(artifactId: string, releaseId: string): Promise<{ policy: string; event: string; reason: string | null; createdAt: Date } | null> {
    const row = await this.store.read((tx) =>
      tx
        .selectFrom("Decision")
        .select(["policy", "event", "reason", "createdAt"])
        .where("artifactId", "=", artifactId)
        .where("releaseId", "=", releaseId)
        .where("fired", "=", 1)
        .orderBy("id", "asc")
        .limit(1)
        .executeTakeFirst(),
    );
    return row ? { ...row, createdAt: fromStamp(row.createdAt) } : null;
  }

  /** The newest bus event and how many results wait for their build. */
  async busActivity(): Promise<{ last: { topic: string; status: string; receivedAt: Date } | null; waiting: number }> {
    return this.store.read(async (tx) => {
      const last = await tx.selectFrom("BusEvent").select(["topic", "status", "receivedAt"]).orderBy("seq", "desc").limit(1).executeTakeFirst();
      const { waiting } = await tx
        .selectFrom("BusEvent")
        .select((e) => e.fn.countAll<number>().as("waiting"))
        .where("status", "=", "waiting")
        .executeTakeFirstOrThrow();
      return { last: last ? { ...last, receivedAt: fromStamp(last.receivedAt) } : null, waiting };
    });
  }
}

/**
 * `column LIKE 'prefix%'` with the prefix's own wildcards escaped. ESCAPE is spelled out: SQLite
 * has no default escape character.
 */
function startsWith(column: "package", prefix: string) {
  return sql<boolean>`${sql.ref(column)} LIKE ${`${prefix.replace(/[\\%_]/g, "\\$&")}%`} ESCAPE '\\'`;
}

/** The builds of these artifacts (name and NVR, in each artifact's order). */
async function buildsOfArtifacts(tx: Tx, artifactIds: readonly string[]): Promise<Map<string, { name: string; nvr: string }[]>> {
  const buildsOf = new Map<string, { name: string; nvr: string }[]>();
  for (const chunk of chunksFor([...new Set(artifactIds)], 1)) {
    const rows = await tx.selectFrom("ArtifactBuild").select(["artifactId", "nvr", "name"]).where("artifactId", "in", chunk).orderBy("id", "asc").execute();
    for (const b of rows) {
      const list = buildsOf.get(b.artifactId) ?? [];
      list.push({ name: b.name, nvr: b.nvr });
      buildsOf.set(b.artifactId, list);
    }
  }
  return buildsOf;
}
