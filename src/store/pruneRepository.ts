// Retention in the store: finds and deletes old artifacts that no release references.
import type { ExpressionBuilder } from "kysely";
import { finalStatuses } from "../domain/release.js";
import type { DB } from "./generated/kysely/types.js";
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

  /**
   * Broken-dependency reports generated before `cutoff` that retention may delete: not the newest
   * of its tree, nor the newest of its tree that is not an error (the next diff's baseline), nor
   * the newest mailed one (the next mail's baseline), nor one a release not yet final was judged by.
   */
  async prunableReportsBefore(cutoff: Date, limit: number): Promise<{ id: string; tree: string; generatedAt: Date }[]> {
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("BrokenDepsReport as r")
        .select(["r.id", "r.tree", "r.generatedAt"])
        .where("r.generatedAt", "<", stamp(cutoff))
        .where((eb) => eb.exists(eb.selectFrom("BrokenDepsReport as n").select("n.id").whereRef("n.tree", "=", "r.tree").where((e) => newer(e))))
        .where((eb) =>
          eb.or([
            eb("r.status", "=", "error"),
            eb.exists(eb.selectFrom("BrokenDepsReport as n").select("n.id").whereRef("n.tree", "=", "r.tree").where("n.status", "!=", "error").where((e) => newer(e))),
          ]),
        )
        .where((eb) =>
          eb.or([
            eb("r.mailedAt", "is", null),
            eb.exists(eb.selectFrom("BrokenDepsReport as n").select("n.id").whereRef("n.tree", "=", "r.tree").where("n.mailedAt", "is not", null).where((e) => newer(e))),
          ]),
        )
        .where((eb) => eb.not(eb.exists(eb.selectFrom("Release as l").select("l.seq").whereRef("l.repoclosureReportId", "=", "r.id").where("l.status", "not in", [...FINAL_RELEASE_STATUSES]))))
        .orderBy("r.generatedAt", "asc")
        .orderBy("r.id", "asc")
        .limit(limit)
        .execute(),
    );
    return rows.map((r) => ({ ...r, generatedAt: fromStamp(r.generatedAt) }));
  }

  /** Deletes reports by id (the caller chose them with prunableReportsBefore). */
  async deleteReports(ids: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const chunk of chunksFor(ids, 1)) {
      const result = await this.store.transaction((tx) => tx.deleteFrom("BrokenDepsReport").where("id", "in", chunk).executeTakeFirst());
      deleted += Number(result.numDeletedRows);
    }
    return deleted;
  }
}

/** A release in one of these no longer waits on its report. */
const FINAL_RELEASE_STATUSES = finalStatuses;

/** `n` is a later report than `r` (by time, then id). */
function newer(e: ExpressionBuilder<DB & { n: DB["BrokenDepsReport"]; r: DB["BrokenDepsReport"] }, "n" | "r">) {
  return e.or([e("n.generatedAt", ">", e.ref("r.generatedAt")), e.and([e("n.generatedAt", "=", e.ref("r.generatedAt")), e("n.id", ">", e.ref("r.id"))])]);
}
