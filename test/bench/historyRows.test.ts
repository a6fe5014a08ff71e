// The restart bench's PostgreSQL seed writes the rows the store itself would: the same history
// stored once through the repositories (ingest, enqueue, markPushed) and once by
// insertPostgresRows reads back the same, but for ids and times, and the writer's reads (a
// release by id, the pushed watermark) find the bulk rows.
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { insertPostgresRows } from "../../bench/historyRows.js";
import { parseArtifact, type Artifact } from "../../src/domain/artifact.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { parseDatabaseUrl, pgSearchPathOption } from "../../src/store/databaseUrl.js";
import { newId } from "../../src/store/ids.js";
import { ReleaseRepository } from "../../src/store/releaseRepository.js";
import type { Store } from "../../src/store/store.js";
import { freshDatabase, postgresUrl, type TestDatabase } from "../support/database.js";

function historyArtifact(n: number): Artifact {
  const pkg = `restart-${n % 2}`;
  const result = parseArtifact({
    id: `restart-history-${n}`,
    package: pkg,
    release: "rawhide",
    source: { repo: `https://src.fedoraproject.org/rpms/${pkg}.git`, sha: "3c92f33a1b2c3d4e5f60718293a4b5c6d7e8f901", branch: n === 2 ? undefined : "rawhide", event: "build" },
    items: [{ kind: "koji-build", nvr: `${pkg}-1.${n}-1.fc45`, buildId: 3_000_000 + n, taskId: 130_000_000 + n, target: "rawhide" }],
  });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

const history = [0, 1, 2, 3].map(historyArtifact);
const shas = history.map((_, i) => `${i}`.repeat(40));

/** Every row of the three tables, in insertion order, with what differs between two runs masked. */
async function rowsOf(db: Store): Promise<unknown[]> {
  return db.read(async (tx) => {
    const mask = (row: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => [k, ["createdAt", "updatedAt", "pushedAt"].includes(k) ? (typeof v === "string" && /^\d{4}-\d\d-\d\dT[\d:.]+\+00:00$/.test(v) ? "stamp" : v) : k === "id" && typeof v === "string" && /^[0-9A-Z]{26}$/.test(v) ? "ulid" : v]),
      );
    return [
      ...(await tx.selectFrom("Artifact").selectAll().orderBy("seq").execute()).map(mask),
      ...(await tx.selectFrom("ArtifactBuild").selectAll().orderBy("id").execute()).map(mask),
      ...(await tx.selectFrom("Release").selectAll().orderBy("seq").execute()).map(mask),
    ];
  });
}

describe.skipIf(!postgresUrl)("restart bench: PostgreSQL history rows", () => {
  const open: TestDatabase[] = [];
  afterEach(async () => {
    for (const d of open.splice(0)) await d.dispose();
  });

  it("are the rows the repositories store", async () => {
    const viaStore = await freshDatabase("postgresql");
    const inBulk = await freshDatabase("postgresql");
    open.push(viaStore, inBulk);

    const artifacts = new ArtifactRepository(viaStore.db);
    const releases = new ReleaseRepository(viaStore.db);
    const pushed: { id: string; commitSha: string }[] = [];
    for (const [i, a] of history.entries()) {
      await artifacts.ingest(a);
      const queued = await releases.enqueue({ artifactId: a.id, environment: "rawhide", repository: "gitops", branch: "main", package: a.package, trigger: "user:bench", createdBy: "bench", force: false });
      if (queued.status !== "queued") throw new Error(queued.status);
      pushed.push({ id: queued.release.id, commitSha: shas[i] as string });
    }
    await releases.markPushed(pushed);

    const target = parseDatabaseUrl(inBulk.url);
    const client = new pg.Client({ connectionString: target.location, options: pgSearchPathOption(target.schema) });
    await client.connect();
    const bulk = history.map((artifact, i) => ({ id: newId(), artifact, createdAt: new Date(), commitSha: shas[i] as string }));
    try {
      await insertPostgresRows(client, bulk.slice(0, 2), new Date(), new Date());
      await insertPostgresRows(client, bulk.slice(2), new Date(), new Date());
    } finally {
      await client.end();
    }

    expect(await rowsOf(inBulk.db)).toEqual(await rowsOf(viaStore.db));
    const bulkReleases = new ReleaseRepository(inBulk.db);
    expect(await bulkReleases.pushedWatermark("gitops", "main")).toBe(shas[3]);
    expect(await bulkReleases.get(bulk[1]?.id as string)).toMatchObject({ status: "pushed", commitSha: shas[1], force: false, bulk: false, attempts: 0 });
    expect((await new ArtifactRepository(inBulk.db).get(history[2]?.id as string))?.artifact).toEqual(history[2]);
  });
});
