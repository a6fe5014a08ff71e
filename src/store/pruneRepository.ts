// Retention in the store: finds and deletes old artifacts that no release references.
import { chunksFor, providerOf, type Prisma, type Provider } from "./database.js";
import { inList, sqlRunnerOf, type SqlRunner, type SqlTx } from "./sql.js";

export interface PruneCandidate {
  seq: number;
  id: string;
  package: string;
  release: string;
  createdAt: Date;
}

/** The rows that went (or would go): artifacts and what belongs only to them. */
export interface PrunedCounts {
  artifacts: number;
  builds: number;
  results: number;
  decisions: number;
}

/** How often a chunk is tried when a concurrent writer got in its way. */
const ATTEMPTS = 3;

/**
 * Errors that mean "someone wrote at the same time; try again": a release now references an
 * artifact being deleted (P2003, the Release foreign key is RESTRICT), a serialization failure
 * (P2034), or SQLite's lock held by the server process for longer than the busy timeout.
 */
function isConcurrentWrite(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  if (e.code === "P2003" || e.code === "P2034") return true;
  return typeof e.message === "string" && /SQLITE_BUSY|database is locked|foreign key constraint/i.test(e.message);
}

export class PruneRepository {
  private readonly provider: Provider;
  private readonly sql: SqlRunner;

  constructor(private readonly prisma: Prisma) {
    this.provider = providerOf(prisma);
    this.sql = sqlRunnerOf(prisma);
  }

  /** Up to `limit` artifacts created before `cutoff` that no release references, after `afterSeq` in insertion order. */
  unreferencedBefore(cutoff: Date, afterSeq: number, limit: number): Promise<PruneCandidate[]> {
    return this.prisma.artifact.findMany({
      where: { seq: { gt: afterSeq }, createdAt: { lt: cutoff }, releases: { none: {} } },
      orderBy: { seq: "asc" },
      take: limit,
      select: { seq: true, id: true, package: true, release: true, createdAt: true },
    });
  }

  /** Artifacts created before `cutoff` that some release references: what retention keeps. */
  countReferencedBefore(cutoff: Date): Promise<number> {
    return this.prisma.artifact.count({ where: { createdAt: { lt: cutoff }, releases: { some: {} } } });
  }

  /** What would go with these artifacts (a dry run). */
  async countDependents(artifactIds: readonly string[]): Promise<Omit<PrunedCounts, "artifacts">> {
    const counts = { builds: 0, results: 0, decisions: 0 };
    const count = async (tx: SqlTx, table: string, ids: string[]) =>
      Number((await tx.all<{ n: number | bigint }>(`SELECT COUNT(*) AS "n" FROM "${table}" WHERE "artifactId" IN (${inList(ids.length)})`, ids))[0]?.n ?? 0);
    await this.sql.read(async (tx) => {
      for (const chunk of chunksFor([...new Set(artifactIds)], 1)) {
        counts.builds += await count(tx, "ArtifactBuild", chunk);
        counts.results += await count(tx, "ArtifactResult", chunk);
        counts.decisions += await count(tx, "Decision", chunk);
      }
    });
    return counts;
  }

  /**
   * Deletes those of `artifactIds` that no release references at the time of deletion, with
   * their builds, results and decisions; one transaction per chunk, so a chunk goes whole or not
   * at all. An artifact a release referenced meanwhile stays.
   */
  async deleteUnreferenced(artifactIds: readonly string[]): Promise<PrunedCounts> {
    const total: PrunedCounts = { artifacts: 0, builds: 0, results: 0, decisions: 0 };
    // The statements below bind exactly the ids, nothing else.
    for (const chunk of chunksFor(artifactIds, 1)) {
      const counts = await this.deleteChunk(chunk);
      total.artifacts += counts.artifacts;
      total.builds += counts.builds;
      total.results += counts.results;
      total.decisions += counts.decisions;
    }
    return total;
  }

  private async deleteChunk(ids: string[]): Promise<PrunedCounts> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.sql.transaction((tx) => this.deleteInTransaction(tx, ids));
      } catch (err) {
        if (attempt >= ATTEMPTS || !isConcurrentWrite(err)) throw err;
      }
    }
  }

  private async deleteInTransaction(tx: SqlTx, ids: string[]): Promise<PrunedCounts> {
    const list = inList(ids.length);
    if (this.provider === "postgresql") {
      // Locks the artifacts first: a release being created for one of them waits on its foreign
      // key check until this commits (and then fails), so every statement below sees the same set.
      await tx.all(`SELECT a."id" FROM "Artifact" a WHERE a."id" IN (${list}) AND NOT EXISTS (SELECT 1 FROM "Release" r WHERE r."artifactId" = a."id") FOR UPDATE OF a`, ids);
    }
    // On SQLite BEGIN IMMEDIATE took the database's write lock, so nothing changes in between.
    // Each statement repeats "no release references it": the same set on both providers.
    const decisions = await tx.run(`DELETE FROM "Decision" WHERE "artifactId" IN (${list}) AND NOT EXISTS (SELECT 1 FROM "Release" r WHERE r."artifactId" = "Decision"."artifactId")`, ids);
    const results = await tx.run(`DELETE FROM "ArtifactResult" WHERE "artifactId" IN (${list}) AND NOT EXISTS (SELECT 1 FROM "Release" r WHERE r."artifactId" = "ArtifactResult"."artifactId")`, ids);
    // Waivers made on the artifact go with it: an artifact pushed later under the same id must not inherit them.
    await tx.run(`DELETE FROM "Waiver" WHERE "artifactId" IN (${list}) AND NOT EXISTS (SELECT 1 FROM "Release" r WHERE r."artifactId" = "Waiver"."artifactId")`, ids);
    const builds = await tx.run(`DELETE FROM "ArtifactBuild" WHERE "artifactId" IN (${list}) AND NOT EXISTS (SELECT 1 FROM "Release" r WHERE r."artifactId" = "ArtifactBuild"."artifactId")`, ids);
    const artifacts = await tx.run(`DELETE FROM "Artifact" WHERE "id" IN (${list}) AND NOT EXISTS (SELECT 1 FROM "Release" r WHERE r."artifactId" = "Artifact"."id")`, ids);
    return { artifacts, builds, results, decisions };
  }
}
