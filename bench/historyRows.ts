// PostgreSQL rows of a seeded release history (bench/restart-history), written in bulk with the
// values the store's own paths write: test/bench/historyRows.test.ts compares them with rows
// stored through the repositories.
import type pg from "pg";
import { digestOfRendered, kojiBuilds, parseNvrName, renderArtifact, type Artifact } from "../src/domain/artifact.js";
import { stamp } from "../src/store/store.js";

/** One release of the seeded history, rendered and committed: what its rows record. */
export interface SeededRelease {
  id: string;
  artifact: Artifact;
  createdAt: Date;
  commitSha: string;
}

/**
 * PostgreSQL rows of a slice of the history, in one transaction of three multi-row INSERTs
 * (unnest of one array per column) with the values the store writes: the artifact and its builds
 * as `ArtifactRepository.insertIn` stores them, the release as `enqueue` inserts it after
 * `markPushed` (status pushed, its commit, pushedAt = updatedAt). A slice of thousands of
 * releases is then three statements, where the repositories' group commits (SQLite's seed)
 * cut them into many bind-limited ones.
 */
export async function insertPostgresRows(client: pg.Client, slice: readonly SeededRelease[], ingestedAt: Date, pushedAt: Date): Promise<void> {
  const ingested = stamp(ingestedAt);
  const pushed = stamp(pushedAt);
  const builds = slice.flatMap((r) => kojiBuilds(r.artifact).map((b) => ({ artifactId: r.artifact.id, nvr: b.nvr, name: parseNvrName(b.nvr) })));
  const bodies = slice.map((r) => renderArtifact(r.artifact));
  const column = <T>(rows: readonly T[], value: (row: T) => string | null) => rows.map(value);
  await client.query("BEGIN");
  try {
    await client.query(
      `INSERT INTO "Artifact" ("id", "package", "release", "sourceRepo", "sourceSha", "sourceBranch", "sourceEvent", "createdAt", "bodyHash", "body")
       SELECT id, package, release, "sourceRepo", "sourceSha", "sourceBranch", "sourceEvent", $8::timestamp(3), "bodyHash", body
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $9::text[], $10::text[])
         WITH ORDINALITY AS t(id, package, release, "sourceRepo", "sourceSha", "sourceBranch", "sourceEvent", "bodyHash", body, n)
       ORDER BY n`,
      [
        column(slice, (r) => r.artifact.id),
        column(slice, (r) => r.artifact.package),
        column(slice, (r) => r.artifact.release),
        column(slice, (r) => r.artifact.source.repo),
        column(slice, (r) => r.artifact.source.sha),
        column(slice, (r) => r.artifact.source.branch ?? null),
        column(slice, (r) => r.artifact.source.event),
        ingested,
        bodies.map(digestOfRendered),
        bodies,
      ],
    );
    await client.query(
      `INSERT INTO "ArtifactBuild" ("artifactId", "nvr", "name")
       SELECT "artifactId", nvr, name FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t("artifactId", nvr, name, n) ORDER BY n`,
      [column(builds, (b) => b.artifactId), column(builds, (b) => b.nvr), column(builds, (b) => b.name)],
    );
    // In commit order: the writer's watermark is the commit of the pushed release with the highest seq.
    await client.query(
      `INSERT INTO "Release" ("id", "artifactId", "environment", "repository", "branch", "package", "trigger", "createdBy", "force", "forceReason", "bulk",
                              "status", "attempts", "commitSha", "createdAt", "updatedAt", "pushedAt", "error", "nextAttemptAt")
       SELECT id, "artifactId", 'rawhide', 'gitops', 'main', package, 'user:bench', 'bench', '0', NULL, '0',
              'pushed', 0, "commitSha", "createdAt"::timestamp(3), $6::timestamp(3), $6::timestamp(3), NULL, NULL
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS t(id, "artifactId", package, "commitSha", "createdAt", n)
       ORDER BY n`,
      [
        column(slice, (r) => r.id),
        column(slice, (r) => r.artifact.id),
        column(slice, (r) => r.artifact.package),
        column(slice, (r) => r.commitSha),
        column(slice, (r) => stamp(r.createdAt)),
        pushed,
      ],
    );
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  }
}
