// Retention in the store: finds and deletes old artifacts that no release references.
import { chunksFor, fromStamp, stamp, type Store, type Tx } from "./store.js";

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
 * artifact being deleted (the Release foreign key is RESTRICT: PostgreSQL 23503, SQLite
 * SQLITE_CONSTRAINT_FOREIGNKEY), a serialization failure or deadlock (40001, 40P01), or
 * SQLite's lock held by the server process for longer than the busy timeout.
 */
function isConcurrentWrite(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  if (e.code === "23503" || e.code === "40001" || e.code === "40P01") return true;
  if (typeof e.code === "string" && (e.code.startsWith("SQLITE_BUSY") || e.code === "SQLITE_CONSTRAINT_FOREIGNKEY")) return true;
  return typeof e.message === "string" && /database is locked|foreign key constraint/i.test(e.message);
}

/** The tables whose rows belong to one artifact and go with it. */
const DEPENDENTS = ["Decision", "ArtifactResult", "Waiver", "ArtifactBuild"] as const;

export class PruneRepository {
  constructor(private readonly store: Store) {}

  /** Up to `limit` artifacts created before `cutoff` that no release references, after `afterSeq` in insertion order. */
  async unreferencedBefore(cutoff: Date, afterSeq: number, limit: number): Promise<PruneCandidate[]> {
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("Artifact as a")
        .select(["a.seq", "a.id", "a.package", "a.release", "a.createdAt"])
        .where("a.seq", ">", afterSeq)
        .where("a.createdAt", "<", stamp(cutoff))
        .where((eb) => eb.not(eb.exists(eb.selectFrom("Release as r").select("r.seq").whereRef("r.artifactId", "=", "a.id"))))
        .orderBy("a.seq", "asc")
        .limit(limit)
        .execute(),
    );
    return rows.map((r) => ({ ...r, createdAt: fromStamp(r.createdAt) }));
  }

  /** Artifacts created before `cutoff` that some release references: what retention keeps. */
  async countReferencedBefore(cutoff: Date): Promise<number> {
    const row = await this.store.read((tx) =>
      tx
        .selectFrom("Artifact as a")
        .select((e) => e.fn.countAll<number>().as("n"))
        .where("a.createdAt", "<", stamp(cutoff))
        .where((eb) => eb.exists(eb.selectFrom("Release as r").select("r.seq").whereRef("r.artifactId", "=", "a.id")))
        .executeTakeFirstOrThrow(),
    );
    return row.n;
  }

  /** What would go with these artifacts (a dry run). */
  async countDependents(artifactIds: readonly string[]): Promise<Omit<PrunedCounts, "artifacts">> {
    const counts = { builds: 0, results: 0, decisions: 0 };
    const count = async (tx: Tx, table: "ArtifactBuild" | "ArtifactResult" | "Decision", ids: string[]) =>
      (
        await tx
          .selectFrom(table)
          .select((e) => e.fn.countAll<number>().as("n"))
          .where("artifactId", "in", ids)
          .executeTakeFirstOrThrow()
      ).n;
    await this.store.read(async (tx) => {
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
   * their builds, results, waivers and decisions; one transaction per chunk, so a chunk goes
   * whole or not at all. An artifact a release referenced meanwhile stays.
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
        return await this.store.transaction((tx) => this.deleteIn(tx, ids));
      } catch (err) {
        if (attempt >= ATTEMPTS || !isConcurrentWrite(err)) throw err;
      }
    }
  }

  private async deleteIn(tx: Tx, ids: string[]): Promise<PrunedCounts> {
    if (this.store.provider === "postgresql") {
      // Locks the artifacts first: a release being created for one of them waits on its foreign
      // key check until this commits (and then fails), so every statement below sees the same set.
      await tx
        .selectFrom("Artifact as a")
        .select("a.id")
        .where("a.id", "in", ids)
        .where((eb) => eb.not(eb.exists(eb.selectFrom("Release as r").select("r.seq").whereRef("r.artifactId", "=", "a.id"))))
        .forUpdate("a")
        .execute();
    }
    // On SQLite BEGIN IMMEDIATE took the database's write lock, so nothing changes in between.
    // Each statement repeats "no release references it": the same set on both databases.
    const deleted: Record<(typeof DEPENDENTS)[number], number> = { Decision: 0, ArtifactResult: 0, Waiver: 0, ArtifactBuild: 0 };
    for (const table of DEPENDENTS) {
      const result = await tx
        .deleteFrom(table)
        .where("artifactId", "in", ids)
        .where((eb) => eb.not(eb.exists(eb.selectFrom("Release as r").select("r.seq").whereRef("r.artifactId", "=", eb.ref(`${table}.artifactId`)))))
        .executeTakeFirst();
      deleted[table] = Number(result.numDeletedRows);
    }
    const artifacts = await tx
      .deleteFrom("Artifact")
      .where("id", "in", ids)
      .where((eb) => eb.not(eb.exists(eb.selectFrom("Release as r").select("r.seq").whereRef("r.artifactId", "=", "Artifact.id"))))
      .executeTakeFirst();
    return { artifacts: Number(artifacts.numDeletedRows), builds: deleted.ArtifactBuild, results: deleted.ArtifactResult, decisions: deleted.Decision };
  }
}
